//! Unit tests of the YAML line editor: round trips, indentation, CRLF and refusals.

use super::super::{Container, EditError, Format, entry_names, read_entry, remove_entry, upsert_entry};
use serde_json::json;

const GOOSE: Container = Container::Map(&["extensions"]);
const CONTINUE: Container = Container::List(&["mcpServers"], "name");

fn entry() -> serde_json::Value {
    json!({"type": "streamable_http", "uri": "http://127.0.0.1:9/mcp", "headers": {"X-Key": "k"}, "enabled": true})
}

fn round_trip(text: &str, c: Container) -> String {
    let added = upsert_entry(Format::Yaml, text, c, "atlassian", &entry()).unwrap();
    assert_eq!(upsert_entry(Format::Yaml, &added, c, "atlassian", &entry()).unwrap(), added);
    let e = read_entry(Format::Yaml, &added, c, "atlassian").unwrap().unwrap();
    assert_eq!(e["uri"], "http://127.0.0.1:9/mcp");
    assert_eq!(remove_entry(Format::Yaml, &added, c, "atlassian").unwrap(), text, "after add:\n{added}");
    added
}

#[test]
fn goose_map_round_trip() {
    let text = "# Goose\nGOOSE_PROVIDER: openai\nextensions:\n    developer:   # built in\n        bundled: true\n        enabled: true\n    # note\nGOOSE_MODEL: gpt-4o # ü\n";
    let added = round_trip(text, GOOSE);
    assert!(added.contains("        enabled: true\n    atlassian:\n        enabled: true\n"), "{added}");
    assert!(added.contains("    # note\nGOOSE_MODEL"), "{added}");
    assert_eq!(entry_names(Format::Yaml, &added, GOOSE).unwrap(), ["atlassian", "developer"]);
}

#[test]
fn continue_list_round_trip() {
    let text = "name: my config\r\nmcpServers:\r\n- name: other\r\n  command: npx\r\n  args:\r\n  - -y\r\n# end\r\n";
    let added = round_trip(text, CONTINUE);
    assert!(added.contains("  - -y\r\n- name: atlassian\r\n  enabled: true\r\n"), "{added:?}");
    let text = "mcpServers:\n  - name: a\n    url: x\n  - name: b\n    url: y";
    let added = round_trip(text, CONTINUE);
    assert!(
        added.ends_with(
            "    url: y\n  - name: atlassian\n    enabled: true\n    headers:\n      X-Key: k\n    type: streamable_http\n    uri: http://127.0.0.1:9/mcp"
        ),
        "{added}"
    );
}

#[test]
fn replace_middle_entry_keeps_neighbours() {
    let text = "extensions:\n  a:\n    x: 1\n  atlassian:\n    uri: old\n  # about b\n  b:\n    x: 2\n";
    let out = upsert_entry(Format::Yaml, text, GOOSE, "atlassian", &entry()).unwrap();
    assert!(out.starts_with("extensions:\n  a:\n    x: 1\n  atlassian:\n    enabled: true\n"), "{out}");
    assert!(out.ends_with("    uri: http://127.0.0.1:9/mcp\n  # about b\n  b:\n    x: 2\n"), "{out}");
    let removed = remove_entry(Format::Yaml, &out, GOOSE, "atlassian").unwrap();
    assert_eq!(removed, "extensions:\n  a:\n    x: 1\n  # about b\n  b:\n    x: 2\n");
}

#[test]
fn empty_inline_container_round_trips() {
    round_trip("extensions: {} # none yet\nother: 1\n", GOOSE);
    round_trip("mcpServers: []\n", CONTINUE);
}

#[test]
fn created_container_stays_empty() {
    let text = "GOOSE_MODEL: x\n# trailing comment\n";
    let added = upsert_entry(Format::Yaml, text, GOOSE, "atlassian", &entry()).unwrap();
    assert!(added.starts_with("GOOSE_MODEL: x\nextensions:\n  atlassian:\n"), "{added}");
    assert!(added.ends_with("# trailing comment\n"));
    let removed = remove_entry(Format::Yaml, &added, GOOSE, "atlassian").unwrap();
    assert_eq!(removed, "GOOSE_MODEL: x\nextensions: {}\n# trailing comment\n");
    let fresh = upsert_entry(Format::Yaml, " \n", CONTINUE, "atlassian", &json!({"url": "u"})).unwrap();
    assert_eq!(fresh, "mcpServers:\n  - name: atlassian\n    url: u\n");
}

#[test]
fn no_trailing_newline() {
    let text = "extensions:\n  dev:\n    enabled: true";
    let added = round_trip(text, GOOSE);
    assert!(!added.ends_with('\n'));
}

#[test]
fn quoted_keys_and_unicode() {
    let text = "extensions:\n  \"dév ü\":\n    name: 'it''s'\n  'x: y':\n    a: \"é\\n\"\n";
    round_trip(text, GOOSE);
    let e = json!({"uri": "ü: # not a comment", "args": ["yes", "1", ""]});
    let added = upsert_entry(Format::Yaml, text, GOOSE, "ünï", &e).unwrap();
    assert_eq!(read_entry(Format::Yaml, &added, GOOSE, "ünï").unwrap(), Some(e));
    assert_eq!(remove_entry(Format::Yaml, &added, GOOSE, "ünï").unwrap(), text);
}

#[test]
fn refusals() {
    let flow = "extensions: {dev: {enabled: true}}\n";
    assert!(matches!(upsert_entry(Format::Yaml, flow, GOOSE, "a", &entry()), Err(EditError::Shape(_))));
    let wrong = "extensions:\n- a\n";
    assert!(matches!(upsert_entry(Format::Yaml, wrong, GOOSE, "a", &entry()), Err(EditError::Shape(_))));
    let bad = "extensions:\n  dev: [1, 2\nx: 1\n";
    let err = upsert_entry(Format::Yaml, bad, GOOSE, "a", &entry()).unwrap_err();
    assert!(matches!(err, EditError::Parse { line, .. } if line >= 2), "{err:?}");
    let tabs = "extensions:\n\tdev: 1\n";
    assert!(matches!(upsert_entry(Format::Yaml, tabs, GOOSE, "a", &entry()), Err(EditError::Parse { .. })));
}
