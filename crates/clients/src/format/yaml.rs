//! YAML editing (Goose's `extensions` map, Continue's `mcpServers` list) by a minimal text edit
//! of our entry's lines, checked by a real YAML parser.
//!
//! Why not a YAML editing library: `yamlpatch` 1.32 re-serialises values through serde and
//! always appends a final newline (its `Add` and `Remove` are not designed as exact inverses),
//! and `yaml-edit` 0.3 is a young rowan-based parser of its own, not a reference YAML parser
//! for acceptance and error positions. Neither guarantees the byte-for-byte invariants below,
//! so this module edits text itself, in the narrow shape we need:
//!
//! - The document is read (for values, names and parse errors with line and column) with
//!   `yaml_serde`. The text edit only locates lines: a key line is `key:` at the indentation of
//!   its siblings, its block is every following line indented deeper. Our entry occupies the
//!   lines from its key (or `-` item) line to its last non-comment line, so comments and blank
//!   lines around it stay where they are.
//! - Upsert replaces exactly those lines, or inserts new lines after the container's last
//!   content line; remove deletes exactly those lines. Nothing else in the file is touched, so
//!   add then remove gives back the original bytes when the container held entries before.
//! - New lines use the file's line ending, its indentation step, and the indentation of the
//!   sibling entries (or `-` items) already there.
//! - Every result is re-parsed and compared with the expected document by the caller
//!   (`format::verify`): anything this line model gets wrong is refused, never written.
//!
//! Limits (written down as the brief asks):
//! - The container and the path to it must be in block style. A flow-style container with
//!   entries (`extensions: {a: {...}}`) is refused with a Shape error. An empty inline
//!   container (`extensions: {}`, `mcpServers: []`, `~`, `null`) is turned into block style
//!   on insert; when a remove leaves a container with no entries it is written back as
//!   `key: {}` / `key: []`. So `extensions: {}` round-trips exactly, but `extensions:` (null)
//!   comes back as `extensions: {}` and `extensions:   {}` loses its extra spaces.
//! - A missing container is appended as a new top-level block at the end of the document's
//!   content (before trailing comments); after remove it stays as `key: {}` / `key: []`.
//! - Our entry is always written in block style; strings are quoted only when needed.
//! - Multi-document files, anchors/aliases on the container, complex (`? `) keys and keys that
//!   span lines around our entry are refused (the line model and the parser disagree).

use serde_json::Value;

use super::yaml_emit;
use super::{Container, EditError};

/// The whole document as JSON (`Null` for an empty or comment-only file).
pub(super) fn to_json(text: &str) -> Result<Value, EditError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Value::Null);
    }
    let value: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        EditError::Parse { line, column, message: e.to_string() }
    })?;
    json_of(value)
}

fn json_of(value: yaml_serde::Value) -> Result<Value, EditError> {
    use yaml_serde::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.into(),
            (_, Some(u), _) => u.into(),
            (_, _, Some(f)) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            _ => Value::Null,
        },
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(json_of).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match json_of(k)? {
                    Value::String(s) => s,
                    Value::Null => "null".into(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(EditError::Shape("a YAML map has a complex key".into())),
                };
                out.insert(key, json_of(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => json_of(tagged.value)?,
    })
}

/// One line: `start..end` is its text without terminator, `next` is where the next one starts.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

struct Doc<'a> {
    text: &'a str,
    lines: Vec<Line>,
    nl: &'static str,
}

fn shape(msg: &str) -> EditError {
    EditError::Shape(format!("cannot edit this YAML file safely: {msg}"))
}

impl<'a> Doc<'a> {
    fn new(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let (end, next) = match text[start..].find('\n') {
                Some(i) => (start + i, start + i + 1),
                None => (text.len(), text.len()),
            };
            let end = if end > start && text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
            lines.push(Line { start, end, next });
            start = next;
        }
        Doc { text, lines, nl: super::newline_of(text) }
    }

    fn line(&self, i: usize) -> &'a str {
        &self.text[self.lines[i].start..self.lines[i].end]
    }

    /// Indentation of a content line; `None` for blank and comment-only lines.
    fn indent(&self, i: usize) -> Option<usize> {
        let l = self.line(i).trim_start_matches('\u{feff}');
        let body = l.trim_start_matches(' ');
        (!body.trim().is_empty() && !body.starts_with('#')).then(|| l.len() - body.len())
    }

    fn last_content(&self, from: usize, to: usize) -> Option<usize> {
        (from..to).rev().find(|&i| self.indent(i).is_some())
    }

    /// The root mapping's lines, skipping a leading `---`.
    fn root(&self) -> Result<(usize, usize), EditError> {
        let mut from = 0;
        for i in 0..self.lines.len() {
            let t = self.line(i).trim_end();
            if t.starts_with("---") || t.starts_with("...") || t.starts_with('%') {
                if self.last_content(0, i).is_some() || !(t == "---" || t.starts_with('%')) {
                    return Err(shape("document markers are not supported"));
                }
                from = i + 1;
            }
        }
        Ok((from, self.lines.len()))
    }

    /// The key lines directly inside the block `from..to` (a block mapping).
    fn children(&self, from: usize, to: usize) -> Result<Vec<(String, usize)>, EditError> {
        let mut out = Vec::new();
        let Some(first) = (from..to).find(|&i| self.indent(i).is_some()) else { return Ok(out) };
        let col = self.indent(first).unwrap_or(0);
        for i in first..to {
            match self.indent(i) {
                Some(ind) if ind == col => match parse_key(&self.line(i)[ind..]) {
                    Some((key, _)) => out.push((key, i)),
                    // An indentless list belonging to the previous key.
                    None if !out.is_empty() && is_item(&self.line(i)[ind..]) => {}
                    None => return Err(shape("expected a `key:` line")),
                },
                Some(ind) if ind < col => return Err(shape("inconsistent indentation")),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The lines after key line `at` that belong to its value (indented deeper; or, for a list,
    /// `-` items at the same indentation).
    fn body(&self, at: usize, list: bool) -> (usize, usize) {
        let col = self.indent(at).unwrap_or(0);
        let mut end = at + 1;
        for i in at + 1..self.lines.len() {
            match self.indent(i) {
                Some(ind) if ind < col => break,
                Some(ind) if ind == col && !(list && is_item(&self.line(i)[ind..])) => break,
                _ => {}
            }
            end = i + 1;
        }
        // Trailing comments and blank lines do not belong to the value.
        (at + 1, self.last_content(at + 1, end).map_or(at + 1, |l| l + 1))
    }

    /// The `-` item lines directly inside the block `from..to`.
    fn items(&self, from: usize, to: usize) -> Result<Vec<usize>, EditError> {
        let mut out = Vec::new();
        let Some(first) = (from..to).find(|&i| self.indent(i).is_some()) else { return Ok(out) };
        let col = self.indent(first).unwrap_or(0);
        for i in first..to {
            match self.indent(i) {
                Some(ind) if ind == col => {
                    if !is_item(&self.line(i)[ind..]) {
                        return Err(shape("expected a `- ` list item"));
                    }
                    out.push(i);
                }
                Some(ind) if ind < col => return Err(shape("inconsistent indentation")),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The smallest indentation step used in the file (2 if none).
    fn step(&self) -> usize {
        (0..self.lines.len()).filter_map(|i| self.indent(i)).filter(|&i| i > 0).min().unwrap_or(2)
    }

    /// Byte offset and text that insert `new` lines after line `after` (or at the very start).
    fn insert_after(&self, after: Option<usize>, new: &[String]) -> (usize, usize, String) {
        let joined = new.join(self.nl);
        match after.map(|i| self.lines[i]) {
            Some(l) if l.next == l.end => (l.end, l.end, format!("{}{joined}", self.nl)),
            Some(l) => (l.next, l.next, format!("{joined}{}", self.nl)),
            None if self.text.is_empty() || self.text.ends_with('\n') => (self.text.len(), self.text.len(), format!("{joined}{}", self.nl)),
            None => (self.text.len(), self.text.len(), format!("{}{joined}{}", self.nl, self.nl)),
        }
    }

    /// Byte range covering lines `from..=to`, with the terminator that separates them from the
    /// rest (the preceding one if `to` is the unterminated last line).
    fn line_range(&self, from: usize, to: usize) -> (usize, usize) {
        let last = self.lines[to];
        if last.next == last.end && from > 0 { (self.lines[from - 1].end, last.end) } else { (self.lines[from].start, last.next) }
    }
}

fn is_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

/// Parses `key:` at the start of `s`; returns the key and the byte offset just after the colon.
fn parse_key(s: &str) -> Option<(String, usize)> {
    let (key, rest_at) = match s.chars().next()? {
        '"' => {
            let b = s.as_bytes();
            let mut i = 1;
            loop {
                match b.get(i)? {
                    b'\\' => i += 2,
                    b'"' => break,
                    _ => i += 1,
                }
            }
            (serde_json::from_str::<String>(&s[..=i]).ok()?, i + 1)
        }
        '\'' => {
            let mut i = 1;
            let b = s.as_bytes();
            loop {
                match b.get(i)? {
                    b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break,
                    _ => i += 1,
                }
            }
            (s[1..i].replace("''", "'"), i + 1)
        }
        '-' | '?' | '[' | '{' | '&' | '*' | '!' | '|' | '>' | '#' | '%' | '@' | '`' => return None,
        _ => {
            let colon = s.match_indices(':').map(|(i, _)| i).find(|&i| matches!(s.as_bytes().get(i + 1), None | Some(b' ' | b'\t')))?;
            (s[..colon].trim_end().to_string(), colon)
        }
    };
    let after = s[rest_at..].trim_start_matches([' ', '\t']);
    let colon = s.len() - after.len();
    after.starts_with(':').then(|| (key, colon + 1))
}

/// What follows the container's colon: nothing (block), an empty flow/null token, or a value.
enum Inline {
    Block,
    Empty { from: usize, to: usize },
    Value,
}

fn inline_value(doc: &Doc, at: usize) -> Inline {
    let line = doc.line(at);
    let ind = doc.indent(at).unwrap_or(0);
    let Some((_, colon)) = parse_key(&line[ind..]) else { return Inline::Value };
    let rest = &line[ind + colon..];
    let value = rest.trim_start();
    if value.is_empty() || value.starts_with('#') {
        return Inline::Block;
    }
    let token = value.split([' ', '\t']).next().unwrap_or("");
    let after = value[token.len()..].trim_start();
    if ["{}", "[]", "~", "null", "Null", "NULL"].contains(&token) && (after.is_empty() || after.starts_with('#')) {
        let from = doc.lines[at].start + ind + colon;
        let to = from + (rest.len() - value.len()) + token.len();
        return Inline::Empty { from, to };
    }
    Inline::Value
}

/// Where the container is: its key line (if present) and its body's lines.
struct Found {
    key_line: usize,
    body: (usize, usize),
}

/// Where a missing container goes: after this line, from this path depth, at this column.
type Missing = (Option<usize>, usize, usize);

fn locate(doc: &Doc, container: Container) -> Result<Result<Found, Missing>, EditError> {
    let (mut from, mut to) = doc.root()?;
    let path = container.path();
    let mut depth_indent = 0;
    let mut parent_last = doc.last_content(from, to);
    for (depth, seg) in path.iter().enumerate() {
        let kids = doc.children(from, to)?;
        let Some(&(_, at)) = kids.iter().find(|(k, _)| k == seg) else {
            return Ok(Err((parent_last, depth, depth_indent)));
        };
        let is_last = depth + 1 == path.len();
        let list = is_last && matches!(container, Container::List(..));
        if !is_last && !matches!(inline_value(doc, at), Inline::Block) {
            return Err(shape("the path to the servers is not in block style"));
        }
        (from, to) = doc.body(at, list);
        depth_indent = doc.indent(at).unwrap_or(0) + doc.step();
        parent_last = doc.last_content(at, to);
        if is_last {
            return Ok(Ok(Found { key_line: at, body: (from, to) }));
        }
    }
    Err(shape("empty container path"))
}

fn splice(text: &str, edits: &mut [(usize, usize, String)]) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (from, to, with) in edits.iter() {
        out.replace_range(*from..*to, with);
    }
    out
}

pub(super) fn upsert(text: &str, container: Container, name: &str, entry: &Value) -> Result<String, EditError> {
    let doc = Doc::new(text);
    let step = doc.step();
    let parsed = super::container_value(&super::to_json(super::Format::Yaml, text)?, container)?.cloned();
    let render = |col: usize| match container {
        Container::Map(_) => yaml_emit::map_entry(name, entry, col, step),
        Container::List(_, key) => yaml_emit::list_item(entry, key, col, step),
    };
    let found = match locate(&doc, container)? {
        Ok(found) => found,
        Err((after, depth, col)) => {
            // Create the missing part of the path, then our entry.
            if text.trim().is_empty() {
                return Ok(format!("{}{}", create(container, 0, 0, step, &render).join("\n"), "\n"));
            }
            let new = create(container, depth, col, step, &render);
            let (from, to, with) = doc.insert_after(after, &new);
            return Ok(splice(text, &mut [(from, to, with)]));
        }
    };
    let mut edits = Vec::new();
    let key_col = doc.indent(found.key_line).unwrap_or(0);
    match inline_value(&doc, found.key_line) {
        Inline::Value => return Err(shape("the servers are written in flow style")),
        Inline::Empty { from, to } => edits.push((from, to, String::new())),
        Inline::Block => {}
    }
    let (bfrom, bto) = found.body;
    let existing = match container {
        Container::Map(_) => {
            let kids = doc.children(bfrom, bto)?;
            check_names(kids.iter().map(|(k, _)| k.clone()).collect(), parsed.as_ref(), container)?;
            kids.iter().map(|&(ref k, l)| (l, k == name)).collect::<Vec<_>>()
        }
        Container::List(_, key) => {
            let items = doc.items(bfrom, bto)?;
            let values = parsed.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
            if items.len() != values.len() {
                return Err(shape("the list's items could not be matched to its lines"));
            }
            let matches = values.iter().map(|v| v.get(key).and_then(Value::as_str) == Some(name));
            items.iter().copied().zip(matches).collect()
        }
    };
    match existing.iter().position(|&(_, ours)| ours) {
        Some(i) => {
            let first = existing[i].0;
            let next = existing.get(i + 1).map_or(bto, |&(l, _)| l);
            let last = doc.last_content(first, next).unwrap_or(first);
            let new = render(doc.indent(first).unwrap_or(0));
            edits.push((doc.lines[first].start, doc.lines[last].end, new.join(doc.nl)));
        }
        None => {
            let col = existing.first().map_or(key_col + step, |&(l, _)| doc.indent(l).unwrap_or(0));
            let after = doc.last_content(found.key_line, bto);
            edits.push(doc.insert_after(after, &render(col)));
        }
    }
    Ok(splice(text, &mut edits))
}

/// Lines for the missing path segments `depth..` at column `col`, then our entry.
fn create(container: Container, depth: usize, col: usize, step: usize, render: &dyn Fn(usize) -> Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut col = col;
    for seg in &container.path()[depth..] {
        out.push(format!("{}{}:", " ".repeat(col), yaml_emit::string(seg)));
        col += step;
    }
    out.extend(render(col));
    out
}

fn check_names(mut text_keys: Vec<String>, parsed: Option<&Value>, container: Container) -> Result<(), EditError> {
    let mut keys: Vec<String> = parsed.and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    text_keys.sort();
    if keys != text_keys {
        return Err(shape(&format!("the entries of `{}` could not be matched to its lines", container.path().join("."))));
    }
    Ok(())
}

pub(super) fn remove(text: &str, container: Container, name: &str) -> Result<String, EditError> {
    let doc = Doc::new(text);
    let parsed = super::container_value(&super::to_json(super::Format::Yaml, text)?, container)?.cloned();
    let Ok(found) = locate(&doc, container)? else { return Ok(text.to_string()) };
    if !matches!(inline_value(&doc, found.key_line), Inline::Block) {
        return Ok(text.to_string());
    }
    let (bfrom, bto) = found.body;
    let starts: Vec<(usize, bool)> = match container {
        Container::Map(_) => {
            let kids = doc.children(bfrom, bto)?;
            check_names(kids.iter().map(|(k, _)| k.clone()).collect(), parsed.as_ref(), container)?;
            kids.into_iter().map(|(k, l)| (l, k == name)).collect()
        }
        Container::List(_, key) => {
            let items = doc.items(bfrom, bto)?;
            let values = parsed.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
            if items.len() != values.len() {
                return Err(shape("the list's items could not be matched to its lines"));
            }
            items.into_iter().zip(values.iter().map(|v| v.get(key).and_then(Value::as_str) == Some(name))).collect()
        }
    };
    let Some(i) = starts.iter().position(|&(_, ours)| ours) else { return Ok(text.to_string()) };
    let first = starts[i].0;
    let next = starts.get(i + 1).map_or(bto, |&(l, _)| l);
    let last = doc.last_content(first, next).unwrap_or(first);
    let (from, to) = doc.line_range(first, last);
    let mut edits = vec![(from, to, String::new())];
    if starts.len() == 1 {
        // The container is now empty: say so explicitly rather than leaving a null.
        let line = doc.line(found.key_line);
        let ind = doc.indent(found.key_line).unwrap_or(0);
        if let Some((_, colon)) = parse_key(&line[ind..]) {
            let at = doc.lines[found.key_line].start + ind + colon;
            let empty = if matches!(container, Container::Map(_)) { " {}" } else { " []" };
            edits.push((at, at, empty.to_string()));
        }
    }
    Ok(splice(text, &mut edits))
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
