//! Property tests: over generated configs (comments, odd whitespace, unicode, CRLF, other
//! entries), upsert is idempotent, a changed entry replaces ours in place, and remove after
//! upsert gives back the original bytes, so no byte outside our entry ever changes.

use latchkey_clients::format::{Container, Format, entry_names, read_entry, remove_entry, upsert_entry};
use proptest::prelude::*;
use serde_json::{Value, json};

const WORDS: &[&str] = &["alpha", "zoë", "日本語", "naïve café", "x-y_z", "emoji 🚀", "a\"quote", "back\\slash"];

fn entry(v: &str) -> Value {
    json!({"type": "http", "url": format!("http://127.0.0.1:7420/mcp/{v}"), "headers": {"Authorization": "Bearer ü"}, "enabled": true, "timeout": 30})
}

fn check(format: Format, text: &str, c: Container) {
    let names_before = entry_names(format, text, c).unwrap();
    let a = upsert_entry(format, text, c, "atlassian", &entry("a")).unwrap();
    assert_eq!(upsert_entry(format, &a, c, "atlassian", &entry("a")).unwrap(), a, "not idempotent:\n{a}");
    assert_eq!(read_entry(format, &a, c, "atlassian").unwrap().unwrap()["url"], entry("a")["url"]);
    assert_eq!(remove_entry(format, &a, c, "atlassian").unwrap(), text, "remove did not restore:\n{a}");
    // A changed entry replaces ours in place; removing it still restores the original.
    let b = upsert_entry(format, &a, c, "atlassian", &entry("b")).unwrap();
    assert_eq!(remove_entry(format, &b, c, "atlassian").unwrap(), text, "after change:\n{b}");
    let mut names_after = entry_names(format, &b, c).unwrap();
    names_after.retain(|n| n != "atlassian");
    assert_eq!(names_after.len(), names_before.len());
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

prop_compose! {
    fn words()(idx in prop::collection::vec(0..WORDS.len(), 1..4)) -> Vec<String> {
        idx.iter().enumerate().map(|(i, &w)| format!("{}{i}", WORDS[w])).collect()
    }
}

prop_compose! {
    fn style()(indent in prop::sample::select(vec!["  ", "    ", "\t", "   "]), crlf: bool, comments: bool, trailing: bool, blank: bool)
        -> (&'static str, &'static str, bool, bool, bool) {
        (indent, if crlf { "\r\n" } else { "\n" }, comments, trailing, blank)
    }
}

fn json_doc(names: &[String], (ind, nl, comments, trailing, blank): (&str, &str, bool, bool, bool), jsonc: bool) -> String {
    let comments = comments && jsonc;
    let trailing = trailing && jsonc;
    let tc = if trailing { "," } else { "" };
    let mut s = String::new();
    if comments {
        s += &format!("// settings ü{nl}");
    }
    s += &format!("{{{nl}{ind}\"theme\": \"dark ☀\",{nl}");
    if blank {
        s += nl;
    }
    s += &format!("{ind}\"servers\": {{{nl}");
    for (i, n) in names.iter().enumerate() {
        if comments {
            s += &format!("{ind}{ind}/* {n} */{nl}");
        }
        let sep = if i + 1 < names.len() { "," } else { tc };
        s += &format!("{ind}{ind}{}: {{ \"command\": {}, \"args\": [\"-y\"]{tc} }}{sep}{nl}", js(n), js(n));
    }
    if comments {
        s += &format!("{ind}{ind}// end of servers{nl}");
    }
    s += &format!("{ind}}},{nl}{ind}\"z\": [1, 2]{tc}{nl}}}{nl}");
    s
}

fn toml_doc(names: &[String], (_, nl, comments, _, blank): (&str, &str, bool, bool, bool)) -> String {
    let mut s = format!("# codex ✓{nl}model = \"o3\" # ü{nl}{nl}");
    for n in names {
        if comments {
            s += &format!("# {}{nl}", n.replace(['\\', '"'], ""));
        }
        s += &format!("[mcp_servers.{}]{nl}command = {}{nl}", js(n), js(n));
        if blank {
            s += nl;
        }
    }
    s += &format!("{nl}[tools]{nl}web_search = true{nl}");
    s
}

fn yaml_doc(names: &[String], (ind, nl, comments, trailing, blank): (&str, &str, bool, bool, bool), list: bool) -> String {
    let ind = if ind == "\t" { "  " } else { ind };
    let mut s = format!("# config ü{nl}name: my config{nl}");
    if blank {
        s += nl;
    }
    if list {
        s += &format!("mcpServers:{nl}");
        let dash = if trailing { "" } else { ind };
        for n in names {
            if comments {
                s += &format!("{dash}# about {}{nl}", n.replace(['\\', '"'], ""));
            }
            s += &format!("{dash}- name: {}{nl}{dash}  command: npx{nl}{dash}  args:{nl}{dash}  - -y{nl}", js(n));
        }
    } else {
        s += &format!("extensions:{nl}");
        for n in names {
            if comments {
                s += &format!("{ind}# about {}{nl}", n.replace(['\\', '"'], ""));
            }
            s += &format!("{ind}{}:{nl}{ind}{ind}enabled: true   # on{nl}{ind}{ind}cmd: {}{nl}", js(n), js(n));
            if blank {
                s += nl;
            }
        }
    }
    if comments {
        s += &format!("# trailing{nl}");
    }
    s += &format!("GOOSE_MODEL: gpt{nl}");
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn json_round_trips(names in words(), st in style()) {
        check(Format::Json, &json_doc(&names, st, false), Container::Map(&["servers"]));
    }

    #[test]
    fn jsonc_round_trips(names in words(), st in style()) {
        check(Format::Jsonc, &json_doc(&names, st, true), Container::Map(&["servers"]));
    }

    #[test]
    fn toml_round_trips(names in words(), st in style()) {
        check(Format::Toml, &toml_doc(&names, st), Container::Map(&["mcp_servers"]));
    }

    #[test]
    fn yaml_map_round_trips(names in words(), st in style()) {
        check(Format::Yaml, &yaml_doc(&names, st, false), Container::Map(&["extensions"]));
    }

    #[test]
    fn yaml_list_round_trips(names in words(), st in style()) {
        check(Format::Yaml, &yaml_doc(&names, st, true), Container::List(&["mcpServers"], "name"));
    }
}

/// When we create the container, remove leaves it behind, empty; the rest is untouched.
#[test]
fn created_container_remains_empty() {
    let cases = [
        (Format::Json, "{\n  \"theme\": \"dark\"\n}\n", Container::Map(&["mcpServers"]), "{\n  \"theme\": \"dark\",\n  \"mcpServers\": {}\n}\n"),
        (Format::Jsonc, "// c\n{\n  \"a\": 1, // x\n}\n", Container::Map(&["servers"]), "// c\n{\n  \"a\": 1, // x\n  \"servers\": {},\n}\n"),
        (Format::Toml, "model = \"o3\"\n", Container::Map(&["mcp_servers"]), "model = \"o3\"\n"),
        (Format::Yaml, "name: x # c\n", Container::Map(&["extensions"]), "name: x # c\nextensions: {}\n"),
        (Format::Yaml, "name: x\n", Container::List(&["mcpServers"], "name"), "name: x\nmcpServers: []\n"),
    ];
    for (format, text, c, expected) in cases {
        let added = upsert_entry(format, text, c, "atlassian", &entry("a")).unwrap();
        assert_eq!(upsert_entry(format, &added, c, "atlassian", &entry("a")).unwrap(), added);
        let removed = remove_entry(format, &added, c, "atlassian").unwrap();
        assert_eq!(removed, expected, "{format:?} after add:\n{added}");
        assert_eq!(entry_names(format, &removed, c).unwrap(), Vec::<String>::new());
    }
}

/// Malformed files of every format: a Parse error with a position, and no text comes back.
#[test]
fn malformed_files_are_never_edited() {
    let c = Container::Map(&["mcpServers"]);
    let cases = [
        (Format::Json, "{\n  \"mcpServers\": {\n    \"a\": 1,\n  }\n}\n", 4),
        (Format::Json, "{\n  \"mcpServers\": {} // comment\n}\n", 2),
        (Format::Jsonc, "{\n  \"mcpServers\": {\n    \"a\": \n  }\n}\n", 4),
        (Format::Jsonc, "{\r\n  \"ü\": 1\r\n  \"mcpServers\": {}\r\n}\r\n", 2),
        (Format::Toml, "model = \"o3\"\n[mcp_servers.a\nurl = \"x\"\n", 2),
        (Format::Toml, "a = 1\na = 2\n", 2),
        (Format::Yaml, "mcpServers:\n  a: 1\n b: 2\n", 3),
        (Format::Yaml, "mcpServers: [\n  \"x\"\n", 3),
    ];
    for (format, text, line) in cases {
        for result in [upsert_entry(format, text, c, "atlassian", &entry("a")), remove_entry(format, text, c, "a")] {
            match result {
                Err(latchkey_clients::format::EditError::Parse { line: l, column, message }) => {
                    assert_eq!(l, line, "{format:?} {text:?}: {message}");
                    assert!(column >= 1, "{message}");
                }
                other => panic!("{format:?} {text:?}: expected a parse error, got {other:?}"),
            }
        }
        assert!(read_entry(format, text, c, "a").is_err());
        assert!(entry_names(format, text, c).is_err());
    }
}
