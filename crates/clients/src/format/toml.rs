//! TOML editing through toml_edit's format-preserving document (Codex CLI's `config.toml`).
//!
//! Invariants:
//! - The file is parsed into a `toml_edit::DocumentMut`, which keeps comments, whitespace and
//!   key order; only our entry's table is inserted, updated or removed.
//! - A new entry under a standard table container is written as its own table,
//!   `[mcp_servers.<name>]`, placed right after the container's last existing table; nested
//!   objects inside it (e.g. `http_headers`) are inline tables. Under an inline-table container
//!   (`mcp_servers = { ... }`) the entry is an inline table.
//! - A missing container is created implicitly (no `[mcp_servers]` header is written), so
//!   after remove nothing of it is left: add then remove restores the bytes in that case too.
//! - A file that uses CRLF line endings only keeps them in the lines we write.
//!
//! Limits: JSON `null` has no TOML form, so an entry containing null is refused; TOML dates
//! and times read back as strings.

use serde_json::Value;
use toml_edit::{DocumentMut, InlineTable, Item, Table, TableLike};

use super::{Container, EditError};

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>().map_err(|e| {
        let (line, column) = super::line_col(text, e.span().map_or(0, |s| s.start));
        EditError::Parse { line, column, message: e.message().trim().to_string() }
    })
}

/// The whole document as JSON.
pub(super) fn to_json(text: &str) -> Result<Value, EditError> {
    Ok(item_json(parse(text)?.as_item()))
}

fn item_json(item: &Item) -> Value {
    match item {
        Item::None => Value::Null,
        Item::Value(v) => value_json(v),
        Item::Table(t) => table_json(t),
        Item::ArrayOfTables(a) => Value::Array(a.iter().map(|t| table_json(t)).collect()),
    }
}

fn table_json(t: &dyn TableLike) -> Value {
    Value::Object(t.iter().map(|(k, v)| (k.to_string(), item_json(v))).collect())
}

fn value_json(v: &toml_edit::Value) -> Value {
    use toml_edit::Value as V;
    match v {
        V::String(s) => Value::String(s.value().clone()),
        V::Integer(i) => Value::from(*i.value()),
        V::Float(f) => serde_json::Number::from_f64(*f.value()).map_or(Value::Null, Value::Number),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::String(d.value().to_string()),
        V::Array(a) => Value::Array(a.iter().map(value_json).collect()),
        V::InlineTable(t) => table_json(t),
    }
}

fn to_value(v: &Value) -> Result<toml_edit::Value, EditError> {
    Ok(match v {
        Value::Null => return Err(EditError::Shape("TOML cannot hold a null value".into())),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into(),
            (None, Some(f)) => f.into(),
            _ => return Err(EditError::Shape(format!("number {n} does not fit in TOML"))),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let mut arr = toml_edit::Array::new();
            for item in items {
                arr.push(to_value(item)?);
            }
            arr.into()
        }
        Value::Object(map) => {
            let mut t = InlineTable::new();
            for (k, v) in map {
                t.insert(k, to_value(v)?);
            }
            t.into()
        }
    })
}

fn to_table(entry: &Value) -> Result<Table, EditError> {
    let mut t = Table::new();
    for (k, v) in entry.as_object().into_iter().flatten() {
        t.insert(k, Item::Value(to_value(v)?));
    }
    Ok(t)
}

/// The container's table (and whether it is an inline table), created implicitly if `create`.
fn container_mut(doc: &mut DocumentMut, container: Container, create: bool) -> Result<Option<(&mut dyn TableLike, bool)>, EditError> {
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    let mut inline = false;
    for seg in container.path() {
        if !table.contains_key(seg) {
            if !create {
                return Ok(None);
            }
            let mut t = Table::new();
            t.set_implicit(true);
            table.insert(seg, Item::Table(t));
        }
        let item = table.get_mut(seg).ok_or_else(|| super::shape_error(container))?;
        inline = item.is_inline_table();
        table = item.as_table_like_mut().ok_or_else(|| super::shape_error(container))?;
    }
    Ok(Some((table, inline)))
}

pub(super) fn upsert(text: &str, container: Container, name: &str, entry: &Value) -> Result<String, EditError> {
    let Container::Map(_) = container else {
        return Err(EditError::Shape("TOML files only hold maps of servers here".into()));
    };
    let mut doc = parse(text)?;
    let (map, inline_container) = container_mut(&mut doc, container, true)?.ok_or_else(|| super::shape_error(container))?;
    match map.get_mut(name) {
        Some(Item::Table(existing)) => {
            // Update in place, keeping the header's position and the comments above it.
            let fresh = to_table(entry)?;
            let stale: Vec<String> = existing.iter().map(|(k, _)| k.to_string()).filter(|k| !fresh.contains_key(k)).collect();
            for k in stale {
                existing.remove(&k);
            }
            for (k, v) in fresh.iter() {
                let same = existing.get(k).map(item_json) == Some(item_json(v));
                if !same {
                    existing.insert(k, v.clone());
                }
            }
        }
        Some(other) => {
            let mut value = to_value(entry)?;
            if let Some(old) = other.as_value() {
                *value.decor_mut() = old.decor().clone();
            }
            *other = Item::Value(value);
        }
        None if inline_container => {
            map.insert(name, Item::Value(to_value(entry)?));
        }
        None => {
            map.insert(name, Item::Table(to_table(entry)?));
        }
    }
    Ok(keep_crlf(text, doc.to_string()))
}

pub(super) fn remove(text: &str, container: Container, name: &str) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    if let Some((map, _)) = container_mut(&mut doc, container, false)? {
        map.remove(name);
    }
    Ok(keep_crlf(text, doc.to_string()))
}

/// toml_edit writes `\n`; a file that only ever used `\r\n` keeps `\r\n`.
fn keep_crlf(original: &str, out: String) -> String {
    let crlf = original.contains("\r\n") && original.matches('\n').count() == original.matches("\r\n").count();
    if !crlf {
        return out;
    }
    let mut fixed = String::with_capacity(out.len() + 16);
    let mut prev = '\0';
    for c in out.chars() {
        if c == '\n' && prev != '\r' {
            fixed.push('\r');
        }
        fixed.push(c);
        prev = c;
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::super::{Container, EditError, Format, read_entry, remove_entry, upsert_entry};
    use serde_json::json;

    const C: Container = Container::Map(&["mcp_servers"]);

    fn entry() -> serde_json::Value {
        json!({"url": "http://127.0.0.1:1/mcp", "http_headers": {"Authorization": "Bearer k"}})
    }

    #[test]
    fn fresh_file() {
        let out = upsert_entry(Format::Toml, "", C, "atlassian", &entry()).unwrap();
        assert_eq!(out, "[mcp_servers.atlassian]\nhttp_headers = { Authorization = \"Bearer k\" }\nurl = \"http://127.0.0.1:1/mcp\"\n");
        assert_eq!(read_entry(Format::Toml, &out, C, "atlassian").unwrap(), Some(entry()));
        // Created container leaves nothing behind.
        assert_eq!(remove_entry(Format::Toml, &out, C, "atlassian").unwrap(), "");
    }

    #[test]
    fn round_trip_keeps_comments_and_crlf() {
        let text = "# codex\r\nmodel = \"o3\" # ü\r\n\r\n[mcp_servers.other]\r\ncommand = \"x\"\r\n# trailing\r\n\r\n[tools]\r\nweb = true\r\n";
        let out = upsert_entry(Format::Toml, text, C, "atlassian", &entry()).unwrap();
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
        assert!(out.find("[mcp_servers.atlassian]").unwrap() < out.find("[tools]").unwrap(), "{out}");
        assert_eq!(upsert_entry(Format::Toml, &out, C, "atlassian", &entry()).unwrap(), out);
        assert_eq!(remove_entry(Format::Toml, &out, C, "atlassian").unwrap(), text);
    }

    #[test]
    fn updates_existing_table_in_place() {
        let text = "# mine\n[mcp_servers.atlassian]\nurl = \"old\"\nextra = 1\n\n[z]\na = 1\n";
        let out = upsert_entry(Format::Toml, text, C, "atlassian", &entry()).unwrap();
        assert!(out.starts_with("# mine\n[mcp_servers.atlassian]\nurl = "), "{out}");
        assert!(!out.contains("extra"));
        assert!(out.ends_with("[z]\na = 1\n"));
    }

    #[test]
    fn inline_container() {
        let text = "mcp_servers = {}\n";
        let out = upsert_entry(Format::Toml, text, C, "a", &json!({"url": "u"})).unwrap();
        assert_eq!(read_entry(Format::Toml, &out, C, "a").unwrap(), Some(json!({"url": "u"})));
    }

    #[test]
    fn parse_error_position() {
        let err = upsert_entry(Format::Toml, "a = 1\nb = = 2\n", C, "x", &entry()).unwrap_err();
        assert!(matches!(err, EditError::Parse { line: 2, .. }), "{err:?}");
        let err = upsert_entry(Format::Toml, "mcp_servers = 3\n", C, "x", &entry()).unwrap_err();
        assert!(matches!(err, EditError::Shape(_)), "{err:?}");
    }
}
