//! Writes our entry as block-style YAML lines (no line terminators), for [`super::yaml`].
//!
//! Invariants: the output is deterministic (same entry, same lines), uses only spaces for
//! indentation, and quotes every string that YAML could read as anything but that same string
//! (booleans, nulls, numbers, indicators, leading/trailing spaces, control characters).

use serde_json::{Map, Value};

/// `name:` followed by the entry's body, with `name` at column `indent`.
pub(super) fn map_entry(name: &str, entry: &Value, indent: usize, step: usize) -> Vec<String> {
    let mut out = Vec::new();
    pair(&" ".repeat(indent), name, entry, indent, step, &mut out);
    out
}

/// `- name_key: name` followed by the entry's other fields, the dash at column `dash`.
pub(super) fn list_item(entry: &Value, name_key: &str, dash: usize, step: usize) -> Vec<String> {
    let mut out = Vec::new();
    let Some(map) = entry.as_object() else {
        out.push(format!("{}- {}", " ".repeat(dash), scalar(entry)));
        return out;
    };
    let ordered = map.get_key_value(name_key).into_iter().chain(map.iter().filter(|(k, _)| *k != name_key));
    for (i, (k, v)) in ordered.enumerate() {
        let prefix = if i == 0 { format!("{}- ", " ".repeat(dash)) } else { " ".repeat(dash + 2) };
        pair(&prefix, k, v, dash + 2, step, &mut out);
    }
    if map.is_empty() {
        out.push(format!("{}- {{}}", " ".repeat(dash)));
    }
    out
}

/// One `key: value` at column `indent`; `prefix` is what precedes the key on its line.
fn pair(prefix: &str, key: &str, value: &Value, indent: usize, step: usize, out: &mut Vec<String>) {
    let key = string(key);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push(format!("{prefix}{key}:"));
            mapping(map, indent + step, step, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push(format!("{prefix}{key}:"));
            sequence(items, indent + step, step, out);
        }
        _ => out.push(format!("{prefix}{key}: {}", scalar(value))),
    }
}

fn mapping(map: &Map<String, Value>, indent: usize, step: usize, out: &mut Vec<String>) {
    for (k, v) in map {
        pair(&" ".repeat(indent), k, v, indent, step, out);
    }
}

fn sequence(items: &[Value], indent: usize, step: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(map) if !map.is_empty() => {
                for (i, (k, v)) in map.iter().enumerate() {
                    let prefix = if i == 0 { format!("{pad}- ") } else { " ".repeat(indent + 2) };
                    pair(&prefix, k, v, indent + 2, step, out);
                }
            }
            // JSON is YAML's flow style: nested lists stay on one line.
            Value::Array(inner) if !inner.is_empty() => {
                out.push(format!("{pad}- {}", flow(item)));
            }
            _ => out.push(format!("{pad}- {}", scalar(item))),
        }
    }
}

fn flow(value: &Value) -> String {
    match value {
        Value::String(s) => string(s),
        Value::Array(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!("{{{}}}", map.iter().map(|(k, v)| format!("{}: {}", quoted(k), flow(v))).collect::<Vec<_>>().join(", ")),
        _ => scalar(value),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) | Value::Object(_) => flow(value),
    }
}

/// A string, plain when that reads back as the same string, double-quoted otherwise.
pub(super) fn string(s: &str) -> String {
    if plain_ok(s) { s.to_string() } else { quoted(s) }
}

fn plain_ok(s: &str) -> bool {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let Some(first) = s.chars().next() else { return false };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && !s.ends_with([':', ' '])
        && !s.contains(": ")
        && !s.contains("  ")
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:@+= ".contains(c))
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

/// JSON's escapes are valid in YAML double quotes; YAML also breaks lines on NEL, LS and PS.
fn quoted(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    json.replace('\u{85}', "\\N").replace('\u{2028}', "\\L").replace('\u{2029}', "\\P")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quoting() {
        assert_eq!(string("atlassian"), "atlassian");
        assert_eq!(string("http://127.0.0.1:8/mcp"), "http://127.0.0.1:8/mcp");
        for s in ["yes", "No", "1.0", "", " a", "a: b", "#x", "-x", "é", "x:", "null", "~"] {
            assert!(string(s).starts_with('"'), "{s}");
        }
    }

    #[test]
    fn entry_lines() {
        let e = json!({"uri": "u", "headers": {"Authorization": "Bearer k"}, "args": [], "on": true});
        assert_eq!(
            map_entry("atlassian", &e, 2, 2),
            ["  atlassian:", "    args: []", "    headers:", "      Authorization: Bearer k", "    \"on\": true", "    uri: u"]
        );
        let e = json!({"url": "u", "name": "a", "list": [{"x": 1, "y": [1]}]});
        assert_eq!(list_item(&e, "name", 2, 2), ["  - name: a", "    list:", "      - x: 1", "        \"y\":", "          - 1", "    url: u"]);
    }
}
