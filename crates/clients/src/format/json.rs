//! JSON and JSONC editing in place, through jsonc-parser's concrete syntax tree.
//!
//! Invariants:
//! - The file is parsed into a CST that keeps every byte (comments, whitespace, commas); only
//!   our entry's node is inserted, replaced or removed, so everything else prints back as it was.
//! - [`super::Format::Json`] is parsed strictly (no comments, trailing commas or other
//!   extensions), so a plain JSON file is rejected if it is not JSON and stays JSON after our
//!   edit: we never introduce comments or trailing commas there.
//! - [`super::Format::Jsonc`] accepts comments and trailing commas (VS Code, Zed, Gemini CLI);
//!   an inserted entry follows the container's own trailing-comma style.
//! - Inserted entries use the file's indentation and line endings.
//!
//! Limits (documented, checked by tests):
//! - Inserting into a container written on a single line (e.g. `"mcpServers": {}` or
//!   `{"a": {...}}`) makes it multi-line; removing our entry afterwards leaves it multi-line
//!   (`{\n  }`), so the bytes are not restored exactly in that case. Multi-line containers are
//!   restored byte for byte.
//! - Containers created by us (missing before) stay behind, empty, after remove.

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstInputValue, CstNode, CstObject, CstRootNode};
use serde_json::Value;

use super::{Container, EditError, Format};

fn options(format: Format) -> ParseOptions {
    let strict = format == Format::Json;
    ParseOptions {
        allow_comments: !strict,
        allow_loose_object_property_names: false,
        allow_trailing_commas: !strict,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

fn parse(format: Format, text: &str) -> Result<CstRootNode, EditError> {
    if format == Format::Json {
        to_json_strict_check(text)?;
    }
    CstRootNode::parse(text, &options(format)).map_err(|e| EditError::Parse {
        line: e.line_display(),
        column: e.column_display(),
        message: e.kind().to_string(),
    })
}

/// jsonc-parser's CST accepts comments whatever the options say, so plain JSON is checked
/// strictly with serde_json first.
fn to_json_strict_check(text: &str) -> Result<(), EditError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    serde_json::from_str::<Value>(text).map(|_| ()).map_err(|e| EditError::Parse { line: e.line(), column: e.column(), message: e.to_string() })
}

/// The whole document as JSON (`Null` for an empty file).
pub(super) fn to_json(format: Format, text: &str) -> Result<Value, EditError> {
    let root = parse(format, text)?;
    Ok(root.to_serde_value().unwrap_or(Value::Null))
}

fn input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(input).collect()),
        Value::Object(map) => CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), input(v))).collect()),
    }
}

fn shape(container: Container) -> EditError {
    super::shape_error(container)
}

/// Walks to the object holding the container's last key, creating missing objects if `create`.
fn parent_object(root: &CstRootNode, container: Container, create: bool) -> Result<Option<CstObject>, EditError> {
    let mut obj = match root.value() {
        None if create => root.object_value_or_set(),
        None => return Ok(None),
        Some(v) => v.as_object().ok_or_else(|| shape(container))?,
    };
    let path = container.path();
    for seg in &path[..path.len().saturating_sub(1)] {
        obj = match obj.get(seg) {
            None if create => obj.object_value_or_set(seg),
            None => return Ok(None),
            Some(prop) => prop.object_value().ok_or_else(|| shape(container))?,
        };
    }
    Ok(Some(obj))
}

pub(super) fn upsert(format: Format, text: &str, container: Container, name: &str, entry: &Value) -> Result<String, EditError> {
    let fresh = text.trim().is_empty();
    let root = parse(format, if fresh { "" } else { text })?;
    let parent = parent_object(&root, container, true)?.ok_or_else(|| shape(container))?;
    let last = container.path().last().copied();
    match container {
        Container::Map(_) => {
            let map = match last {
                None => parent,
                Some(key) => match parent.get(key) {
                    None => parent.object_value_or_set(key),
                    Some(prop) => prop.object_value().ok_or_else(|| shape(container))?,
                },
            };
            match map.get(name) {
                Some(prop) => prop.set_value(input(entry)),
                None => {
                    map.append(name, input(entry));
                }
            }
        }
        Container::List(_, key_field) => {
            let key = last.ok_or_else(|| shape(container))?;
            let list = match parent.get(key) {
                None => parent.array_value_or_set(key),
                Some(prop) => prop.array_value().ok_or_else(|| shape(container))?,
            };
            let existing =
                list.elements().into_iter().find(|el| el.to_serde_value().and_then(|v| v.get(key_field).cloned()) == Some(Value::String(name.to_string())));
            match existing {
                Some(el) => replace_node(el, input(entry)),
                None => {
                    list.append(input(entry));
                }
            }
        }
    }
    let mut out = root.to_string();
    if fresh && !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn replace_node(node: CstNode, value: CstInputValue) {
    if let Some(obj) = node.as_object() {
        obj.replace_with(value);
    } else if let Some(arr) = node.as_array() {
        arr.replace_with(value);
    } else if let Some(lit) = node.as_string_lit() {
        lit.replace_with(value);
    } else if let Some(lit) = node.as_number_lit() {
        lit.replace_with(value);
    } else if let Some(lit) = node.as_boolean_lit() {
        lit.replace_with(value);
    } else if let Some(lit) = node.as_null_keyword() {
        lit.replace_with(value);
    }
}

pub(super) fn remove(format: Format, text: &str, container: Container, name: &str) -> Result<String, EditError> {
    let root = parse(format, text)?;
    let Some(parent) = parent_object(&root, container, false)? else {
        return Ok(text.to_string());
    };
    let last = container.path().last().copied();
    match container {
        Container::Map(_) => {
            let map = match last {
                None => Some(parent),
                Some(key) => parent.get(key).and_then(|p| p.object_value()),
            };
            if let Some(prop) = map.and_then(|m| m.get(name)) {
                prop.remove();
            }
        }
        Container::List(_, key_field) => {
            let list = last.and_then(|key| parent.get(key)).and_then(|p| p.array_value());
            if let Some(list) = list {
                for el in list.elements() {
                    let matches = el.to_serde_value().and_then(|v| v.get(key_field).cloned()) == Some(Value::String(name.to_string()));
                    if matches {
                        el.remove();
                    }
                }
            }
        }
    }
    Ok(root.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{Container, EditError, Format, remove_entry, upsert_entry};
    use serde_json::json;

    const MCP: Container = Container::Map(&["mcpServers"]);

    #[test]
    fn fresh_file_has_expected_shape() {
        let out = upsert_entry(Format::Json, "  \n", MCP, "atlassian", &json!({"url": "u"})).unwrap();
        assert_eq!(out, "{\n  \"mcpServers\": {\n    \"atlassian\": {\n      \"url\": \"u\"\n    }\n  }\n}\n");
    }

    #[test]
    fn keeps_comments_and_trailing_commas_and_round_trips() {
        let text = "// top\n{\n\t\"servers\": {\n\t\t\"other\": { \"url\": \"x\" }, // mine\n\t},\n\t\"z\": 1,\n}\n";
        let c = Container::Map(&["servers"]);
        let added = upsert_entry(Format::Jsonc, text, c, "atlassian", &json!({"url": "é"})).unwrap();
        assert!(added.contains("// mine") && added.contains("\t\t\"atlassian\""), "{added}");
        assert_eq!(upsert_entry(Format::Jsonc, &added, c, "atlassian", &json!({"url": "é"})).unwrap(), added);
        assert_eq!(remove_entry(Format::Jsonc, &added, c, "atlassian").unwrap(), text);
    }

    #[test]
    fn crlf_round_trip() {
        let text = "{\r\n  \"mcpServers\": {\r\n    \"a\": {}\r\n  }\r\n}\r\n";
        let added = upsert_entry(Format::Json, text, MCP, "b", &json!({"url": "u"})).unwrap();
        assert!(!added.replace("\r\n", "").contains('\n'), "{added:?}");
        assert_eq!(remove_entry(Format::Json, &added, MCP, "b").unwrap(), text);
    }

    #[test]
    fn strict_json_rejects_comments() {
        let err = upsert_entry(Format::Json, "{\n  // no\n}", MCP, "a", &json!({})).unwrap_err();
        assert!(matches!(err, EditError::Parse { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn wrong_shape_is_refused() {
        let err = upsert_entry(Format::Json, "{\"mcpServers\": \"x\"}", MCP, "a", &json!({})).unwrap_err();
        assert!(matches!(err, EditError::Shape(_)));
        let err = upsert_entry(Format::Json, "[1]", MCP, "a", &json!({})).unwrap_err();
        assert!(matches!(err, EditError::Shape(_)));
    }

    #[test]
    fn replaces_existing_entry_in_place() {
        let text = "{\n  \"mcpServers\": {\n    \"a\": {\"url\": \"old\"},\n    \"b\": 1\n  }\n}\n";
        let out = upsert_entry(Format::Json, text, MCP, "a", &json!({"url": "new"})).unwrap();
        assert!(out.starts_with("{\n  \"mcpServers\": {\n    \"a\": {"), "{out}");
        assert!(out.ends_with(",\n    \"b\": 1\n  }\n}\n"), "{out}");
    }
}
