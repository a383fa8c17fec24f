//! Each app's real setup path (`setup::add` / `remove` / `restore` with its own paths, format
//! and entry shape) in a temporary HOME: a snapshot of the fresh file each app gets, a merge into
//! a realistic existing file, name clashes, malformed files left byte-for-byte intact, and
//! idempotence.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use latchkey_clients::{ClientsError, EntryState, Env, Expected, Os, all, by_id, setup};

const KEY: &str = "lk_0123456789ab_TESTKEYTESTKEYTESTKEYTESTKEYTESTKEYTESTKE";
const URL: &str = "http://127.0.0.1:47219/mcp/atlassian";

fn env(home: &Path) -> Env {
    Env::with_home(Os::Linux, home)
}

fn expected() -> Expected<'static> {
    Expected { connection: "atlassian", url: URL, bridge: Path::new("/opt/latchkey/bin/latchkey"), local: false }
}

fn key_ok(k: &str) -> bool {
    k == KEY
}

fn add(id: &str, e: &Env, force: bool) -> Result<setup::Changed, ClientsError> {
    let issued = Cell::new(0);
    let mut issue = || {
        issued.set(issued.get() + 1);
        Ok(KEY.to_owned())
    };
    setup::add(by_id(id).unwrap(), e, &expected(), force, &key_ok, &mut issue, 1_700_000_000_000)
}

fn file_of(id: &str, e: &Env) -> PathBuf {
    (by_id(id).unwrap().config_paths)(e).remove(0)
}

#[test]
fn fresh_file_per_app() {
    for app in all() {
        let home = tempfile::tempdir().unwrap();
        let e = env(home.path());
        let changed = add(app.id, &e, false).unwrap();
        assert_eq!(changed.written.len(), 1, "{}", app.id);
        let text = std::fs::read_to_string(file_of(app.id, &e)).unwrap();
        insta::assert_snapshot!(format!("fresh_{}", app.id), text);
        let states = setup::inspect(app, &e, &expected(), &key_ok);
        assert!(states.iter().all(|s| s.state == EntryState::Current), "{}: {states:?}", app.id);
        // Running it again changes nothing, not even the key.
        assert!(add(app.id, &e, false).unwrap().written.is_empty(), "{}", app.id);
        assert_eq!(std::fs::read_to_string(file_of(app.id, &e)).unwrap(), text);
    }
}

/// A realistic existing file per format, with comments, other servers and unknown keys.
fn existing(id: &str) -> &'static str {
    match id {
        "vscode" => {
            "// VS Code MCP servers\n{\n\t\"inputs\": [],\n\t\"servers\": {\n\t\t\"github\": { \"type\": \"http\", \"url\": \"https://api.githubcopilot.com/mcp/\" }, // work\n\t},\n}\n"
        }
        "zed" => {
            "// Zed settings\n{\n  \"theme\": \"One Dark\",\n  \"context_servers\": {\n    \"local\": { \"command\": \"my-server\", \"args\": [] },\n  },\n  \"vim_mode\": true, // yes\n}\n"
        }
        "gemini" => {
            "{\n  // Gemini\n  \"theme\": \"Default\",\n  \"mcpServers\": {\n    \"files\": { \"command\": \"npx\", \"args\": [\"-y\", \"fs\"] }\n  }\n}\n"
        }
        "codex" => {
            "# Codex settings\nmodel = \"o3\" # default model\n\n[mcp_servers.docs]\ncommand = \"docs-mcp\" # local docs\n\n[profiles.fast]\nmodel = \"o4-mini\"\n"
        }
        "goose" => "# Goose\nGOOSE_PROVIDER: openai\nextensions:\n  developer:\n    enabled: true # builtin\n    name: developer\n    type: builtin\n",
        "continue" => {
            "# Continue config\nname: My Assistant\nmcpServers:\n  - name: sqlite # local db\n    command: uvx\n    args: [mcp-server-sqlite]\nmodels: []\n"
        }
        _ => {
            "{\n  \"globalShortcut\": \"Ctrl+Space\",\n  \"mcpServers\": {\n    \"filesystem\": {\n      \"command\": \"npx\",\n      \"args\": [\"-y\", \"@modelcontextprotocol/server-filesystem\", \"/home/jane\"]\n    }\n  },\n  \"ünïcode\": \"✓\"\n}\n"
        }
    }
}

#[test]
fn merge_into_existing_file_per_app_then_remove_restores_it() {
    for app in all() {
        let home = tempfile::tempdir().unwrap();
        let e = env(home.path());
        let path = file_of(app.id, &e);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let original = existing(app.id);
        std::fs::write(&path, original).unwrap();
        add(app.id, &e, false).unwrap();
        let merged = std::fs::read_to_string(&path).unwrap();
        insta::assert_snapshot!(format!("merge_{}", app.id), merged);
        // One backup of the original was kept next to it.
        let backups = latchkey_clients::file::backups(&path);
        assert_eq!(backups.len(), 1, "{}", app.id);
        assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), original);
        setup::remove(app, &e, "atlassian", 1_700_000_000_001).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), original, "{}: remove gives back every byte", app.id);
    }
}

#[test]
fn an_entry_we_did_not_write_needs_force() {
    let home = tempfile::tempdir().unwrap();
    let e = env(home.path());
    let path = file_of("cursor", &e);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let theirs = "{\n  \"mcpServers\": {\n    \"atlassian\": { \"url\": \"https://mcp.atlassian.com/v1/sse\" }\n  }\n}\n";
    std::fs::write(&path, theirs).unwrap();
    let err = add("cursor", &e, false).unwrap_err();
    assert_eq!(err.kind(), "entry_name_taken");
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    // remove never deletes an entry we did not write.
    assert!(setup::remove(by_id("cursor").unwrap(), &e, "atlassian", 1).unwrap().written.is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    add("cursor", &e, true).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains(URL));
}

#[test]
fn malformed_files_are_reported_and_left_byte_for_byte() {
    let cases = [
        ("cursor", "{ \"mcpServers\": { oops }\n"),
        ("vscode", "{ \"servers\": { \"a\": [1, 2 }\n"),
        ("codex", "[mcp_servers\nurl = 1\n"),
        ("goose", "extensions:\n  a: [1, 2\n  b: }\n"),
        ("continue", "mcpServers:\n  - name: a\n   bad: indent\n"),
    ];
    for (id, text) in cases {
        let home = tempfile::tempdir().unwrap();
        let e = env(home.path());
        let path = file_of(id, &e);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let err = add(id, &e, false).unwrap_err();
        assert_eq!(err.kind(), "config_unparseable", "{id}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("line ") && msg.contains("column ") && msg.contains("unchanged"), "{id}: {msg}");
        assert_eq!(std::fs::read(&path).unwrap(), text.as_bytes(), "{id}");
        assert!(latchkey_clients::file::backups(&path).is_empty(), "{id}: nothing to back up, nothing written");
        let state = &setup::inspect(by_id(id).unwrap(), &e, &expected(), &key_ok)[0].state;
        assert!(matches!(state, EntryState::Broken { .. }), "{id}: {state:?}");
    }
}

#[test]
fn stale_entries_are_detected_and_updated() {
    let home = tempfile::tempdir().unwrap();
    let e = env(home.path());
    add("cursor", &e, false).unwrap();
    let app = by_id("cursor").unwrap();
    let revoked = |_: &str| false;
    assert!(matches!(setup::inspect(app, &e, &expected(), &revoked)[0].state, EntryState::Stale { .. }));
    let moved = Expected { url: "http://127.0.0.1:50000/mcp/atlassian", ..expected() };
    assert!(matches!(setup::inspect(app, &e, &moved, &key_ok)[0].state, EntryState::Stale { .. }));
}

#[test]
fn an_entry_from_before_the_small_bridge_is_ours_stale_and_rewritten() {
    let home = tempfile::tempdir().unwrap();
    let e = env(home.path());
    let path = file_of("claude-desktop", &e);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let old = format!(
        r#"{{"mcpServers": {{"atlassian": {{"command": "/opt/latchkey/bin/latchkey", "args": ["bridge", "atlassian"], "env": {{"LATCHKEY_KEY": "{KEY}"}}}}}}}}"#
    );
    std::fs::write(&path, &old).unwrap();
    let app = by_id("claude-desktop").unwrap();
    let state = &setup::inspect(app, &e, &expected(), &key_ok)[0].state;
    assert!(matches!(state, EntryState::Stale { .. }), "{state:?}");
    // Ours (not someone else's entry), so it is replaced without --force.
    add("claude-desktop", &e, false).unwrap();
    let now: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(now["mcpServers"]["atlassian"]["command"], "/opt/latchkey/bin/latchkey-bridge");
    assert_eq!(now["mcpServers"]["atlassian"]["args"], serde_json::json!(["atlassian"]));
    assert!(matches!(setup::inspect(app, &e, &expected(), &key_ok)[0].state, EntryState::Current));
}

#[test]
fn restore_puts_back_the_newest_backup() {
    let home = tempfile::tempdir().unwrap();
    let e = env(home.path());
    let path = file_of("lm-studio", &e);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"mcpServers\": {}}").unwrap();
    add("lm-studio", &e, false).unwrap();
    assert_ne!(std::fs::read_to_string(&path).unwrap(), "{\"mcpServers\": {}}");
    setup::restore(by_id("lm-studio").unwrap(), &e).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"mcpServers\": {}}");
    let other = tempfile::tempdir().unwrap();
    assert_eq!(setup::restore(by_id("lm-studio").unwrap(), &env(other.path())).unwrap_err().kind(), "no_backup");
}
