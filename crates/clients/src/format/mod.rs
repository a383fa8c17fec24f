//! Lossless editing of MCP client configuration files (JSON, JSONC, TOML, YAML).
//!
//! These files belong to other programs and hold the user's own settings, so every edit here
//! follows the same rules:
//!
//! - Only our own entry changes. Every other byte (comments, key order, trailing commas,
//!   indentation, line endings, other servers, unknown keys) stays as it was.
//! - A file that does not parse is never rewritten: the functions return
//!   [`EditError::Parse`] (1-based line and column) and no text at all.
//! - Every edit is checked before it is returned: the new text is parsed again and must equal
//!   the old document with exactly our change applied. If it does not (a layout we cannot edit
//!   losslessly), the edit is refused with [`EditError::Shape`] instead of returning damage.
//! - Upserting an entry that is already there, identical, returns the text unchanged, so
//!   running the same command twice gives the same bytes.
//! - Upsert followed by remove gives back the original bytes whenever the container existed
//!   before (see each format's module for the few layouts where that cannot hold). When the
//!   container had to be created, it stays behind as an empty container after remove.
//!
//! Each format lives in its own module: [`json`] (JSON and JSONC, via jsonc-parser's CST),
//! [`toml`] (toml_edit) and [`yaml`] (a parser for reading and checking, plus a minimal
//! line-based text edit of our entry's block).

use serde_json::Value;

pub mod json;
pub mod toml;
pub mod yaml;
mod yaml_emit;

/// File formats we edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsonc,
    Toml,
    Yaml,
}

/// Where MCP server entries live inside the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A map of name -> entry at this key path from the root, e.g. &["mcpServers"], &["servers"],
    /// &["context_servers"], &["mcp_servers"] (TOML table), &["extensions"] (YAML map).
    Map(&'static [&'static str]),
    /// A list of entries at this key path, each identified by its `name_key` field (Continue's
    /// YAML `mcpServers` list).
    List(&'static [&'static str], &'static str),
}

impl Container {
    /// The key path from the root to the container.
    pub fn path(&self) -> &'static [&'static str] {
        match self {
            Container::Map(p) | Container::List(p, _) => p,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The file does not parse: it is never rewritten.
    #[error("line {line}, column {column}: {message}")]
    Parse { line: usize, column: usize, message: String },
    /// The document's shape is not what the client expects (e.g. `mcpServers` is a string).
    #[error("{0}")]
    Shape(String),
}

/// Our entry as JSON (serde_json::Value object); for TOML/YAML it is converted (objects ->
/// tables/maps, strings, bools, numbers, arrays).
pub fn read_entry(format: Format, text: &str, container: Container, name: &str) -> Result<Option<Value>, EditError> {
    let doc = to_json(format, text)?;
    Ok(find_entry(&doc, container, name)?.cloned())
}

/// Inserts or replaces entry `name`. An empty or whitespace-only `text` yields a fresh document
/// of the client's expected shape. Returns the new text.
pub fn upsert_entry(format: Format, text: &str, container: Container, name: &str, entry: &Value) -> Result<String, EditError> {
    if !entry.is_object() {
        return Err(EditError::Shape("an MCP server entry must be an object".into()));
    }
    let entry = effective_entry(container, name, entry);
    let before = to_json(format, text)?;
    if find_entry(&before, container, name)? == Some(&entry) {
        return Ok(text.to_string());
    }
    let new_text = match format {
        Format::Json | Format::Jsonc => json::upsert(format, text, container, name, &entry)?,
        Format::Toml => toml::upsert(text, container, name, &entry)?,
        Format::Yaml => yaml::upsert(text, container, name, &entry)?,
    };
    let mut expected = before;
    apply_upsert(&mut expected, container, name, entry)?;
    verify(format, &new_text, &expected)?;
    Ok(new_text)
}

/// Removes entry `name` (Ok(text unchanged) if absent). Leaves the (possibly now empty)
/// container in place.
pub fn remove_entry(format: Format, text: &str, container: Container, name: &str) -> Result<String, EditError> {
    let before = to_json(format, text)?;
    if find_entry(&before, container, name)?.is_none() {
        return Ok(text.to_string());
    }
    let new_text = match format {
        Format::Json | Format::Jsonc => json::remove(format, text, container, name)?,
        Format::Toml => toml::remove(text, container, name)?,
        Format::Yaml => yaml::remove(text, container, name)?,
    };
    let mut expected = before;
    apply_remove(&mut expected, container, name);
    verify(format, &new_text, &expected)?;
    Ok(new_text)
}

/// All entry names in the container (to detect clashes and list what is configured).
pub fn entry_names(format: Format, text: &str, container: Container) -> Result<Vec<String>, EditError> {
    let doc = to_json(format, text)?;
    Ok(match (container, container_value(&doc, container)?) {
        (_, None) => Vec::new(),
        (Container::Map(_), Some(Value::Object(map))) => map.keys().cloned().collect(),
        (Container::List(_, key), Some(Value::Array(items))) => {
            items.iter().filter_map(|item| item.get(key).and_then(Value::as_str).map(str::to_string)).collect()
        }
        _ => Vec::new(),
    })
}

/// Parses the whole document into JSON. An empty document is `{}`.
fn to_json(format: Format, text: &str) -> Result<Value, EditError> {
    let doc = match format {
        Format::Json | Format::Jsonc => json::to_json(format, text)?,
        Format::Toml => toml::to_json(text)?,
        Format::Yaml => yaml::to_json(text)?,
    };
    match doc {
        Value::Null => Ok(Value::Object(Default::default())),
        Value::Object(_) => Ok(doc),
        _ => Err(EditError::Shape("the top level of the file is not an object".into())),
    }
}

fn path_display(container: Container) -> String {
    container.path().join(".")
}

/// The container's value, `None` if absent (or null). Errors if its shape is wrong.
fn container_value(doc: &Value, container: Container) -> Result<Option<&Value>, EditError> {
    let mut cur = doc;
    for seg in container.path() {
        match cur {
            Value::Object(map) => match map.get(*seg) {
                Some(v) => cur = v,
                None => return Ok(None),
            },
            _ => return Err(shape_error(container)),
        }
    }
    match (container, cur) {
        (_, Value::Null) => Ok(None),
        (Container::Map(_), Value::Object(_)) | (Container::List(..), Value::Array(_)) => Ok(Some(cur)),
        _ => Err(shape_error(container)),
    }
}

fn shape_error(container: Container) -> EditError {
    let kind = match container {
        Container::Map(_) => "an object of servers",
        Container::List(..) => "a list of servers",
    };
    EditError::Shape(format!("`{}` is not {kind}", path_display(container)))
}

fn find_entry<'a>(doc: &'a Value, container: Container, name: &str) -> Result<Option<&'a Value>, EditError> {
    Ok(match (container, container_value(doc, container)?) {
        (Container::Map(_), Some(Value::Object(map))) => map.get(name),
        (Container::List(_, key), Some(Value::Array(items))) => {
            let mut found = items.iter().filter(|i| i.get(key).and_then(Value::as_str) == Some(name));
            let first = found.next();
            if found.next().is_some() {
                return Err(EditError::Shape(format!("`{}` has more than one entry named `{name}`", path_display(container))));
            }
            first
        }
        _ => None,
    })
}

/// For list containers the entry carries its own name.
fn effective_entry(container: Container, name: &str, entry: &Value) -> Value {
    let mut entry = entry.clone();
    if let (Container::List(_, key), Value::Object(map)) = (container, &mut entry) {
        map.insert(key.to_string(), Value::String(name.to_string()));
    }
    entry
}

fn apply_upsert(doc: &mut Value, container: Container, name: &str, entry: Value) -> Result<(), EditError> {
    let mut cur = doc;
    for seg in container.path() {
        let map = cur.as_object_mut().ok_or_else(|| shape_error(container))?;
        cur = map.entry(seg.to_string()).or_insert(Value::Null);
    }
    if cur.is_null() {
        *cur = match container {
            Container::Map(_) => Value::Object(Default::default()),
            Container::List(..) => Value::Array(Vec::new()),
        };
    }
    match (container, cur) {
        (Container::Map(_), Value::Object(map)) => {
            map.insert(name.to_string(), entry);
        }
        (Container::List(_, key), Value::Array(items)) => match items.iter_mut().find(|i| i.get(key).and_then(Value::as_str) == Some(name)) {
            Some(slot) => *slot = entry,
            None => items.push(entry),
        },
        _ => return Err(shape_error(container)),
    }
    Ok(())
}

fn apply_remove(doc: &mut Value, container: Container, name: &str) {
    let mut cur = doc;
    for seg in container.path() {
        match cur.get_mut(*seg) {
            Some(v) => cur = v,
            None => return,
        }
    }
    match (container, cur) {
        (Container::Map(_), Value::Object(map)) => {
            map.remove(name);
        }
        (Container::List(_, key), Value::Array(items)) => {
            items.retain(|i| i.get(key).and_then(Value::as_str) != Some(name));
        }
        _ => {}
    }
}

/// The edited text must parse to exactly the expected document.
fn verify(format: Format, new_text: &str, expected: &Value) -> Result<(), EditError> {
    match to_json(format, new_text) {
        Ok(actual) if same(&actual, expected) => Ok(()),
        _ => Err(EditError::Shape(
            "this file's layout cannot be edited without changing other settings; \
             edit it by hand or simplify its layout"
                .into(),
        )),
    }
}

/// Structural equality where an empty container, null and a missing key are alike (YAML
/// `key:` and `key: {}`; a TOML table that was only implied).
fn same(a: &Value, b: &Value) -> bool {
    const NULL: &Value = &Value::Null;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).all(|k| same(x.get(k).unwrap_or(NULL), y.get(k).unwrap_or(NULL))),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
        (Value::Null, Value::Object(m)) | (Value::Object(m), Value::Null) => m.is_empty(),
        (Value::Null, Value::Array(v)) | (Value::Array(v), Value::Null) => v.is_empty(),
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut offset = offset;
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The line ending the file already uses (`\r\n` if its first line ends so), else `\n`.
pub(crate) fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}
