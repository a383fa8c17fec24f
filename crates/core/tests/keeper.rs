//! Keeping apps set up: when an app wipes our entry, the keeper (watching the config folder)
//! puts it back and emits `ClientRestored`; an entry the user removed through Latchkey, or any
//! entry while the setting is off, is left alone.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use latchkey_clients::{EntryState, Env, Expected, Os, by_id, setup};
use latchkey_core::{ClientOptions, Deps, Event, Latchkey, Paths};

fn engine(config: &Path) -> Latchkey {
    Latchkey::new(Deps {
        paths: Paths { config_dir: config.to_path_buf() },
        store: Arc::new(latchkey_secrets::MemoryStore::new()),
        opener: Arc::new(latchkey_oauth::NoOpener),
        clock: Arc::new(latchkey_oauth::SystemClock),
        flow_timeout: Duration::from_secs(5),
        on_auth_url: None,
    })
    .unwrap()
}

fn env(home: &Path) -> Env {
    Env::with_home(Os::Linux, home)
}

fn cursor_state(engine: &Latchkey, e: &Env, bridge: &Path) -> EntryState {
    let url = engine.gateway_url("work").unwrap();
    let expected = Expected { connection: "work", url: &url, bridge, local: false };
    let ok = |k: &str| engine.verify_local_key("work", k).unwrap();
    setup::inspect(by_id("cursor").unwrap(), e, &expected, &ok).remove(0).state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiped_entries_come_back_but_removed_ones_do_not() {
    let config = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let bridge = Path::new("/opt/latchkey");
    let e = env(home.path());
    let engine = engine(config.path());
    engine.resolve("https://mcp.example.com/mcp", Some("work"), None, &ClientOptions::default()).unwrap();
    std::fs::create_dir_all(home.path().join(".cursor")).unwrap();
    let changes = engine.clients_add(&e, bridge, "work", &["cursor".into()], false).unwrap();
    assert!(changes[0].error.is_none());
    assert_eq!(cursor_state(&engine, &e, bridge), EntryState::Current);

    let mut events = engine.subscribe();
    let keeper = engine.start_keeper(e.clone(), bridge.to_path_buf()).unwrap();
    // The app rewrites its file without our entry.
    let file = home.path().join(".cursor/mcp.json");
    std::fs::write(&file, "{\n  \"mcpServers\": {}\n}\n").unwrap();
    let restored = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(Event::ClientRestored { app, connection, .. }) = events.recv().await {
                break (app, connection);
            }
        }
    })
    .await
    .expect("the keeper restores the entry");
    assert_eq!(restored, ("cursor".to_owned(), "work".to_owned()));
    assert_eq!(cursor_state(&engine, &e, bridge), EntryState::Current);
    keeper.stop().await;

    // Removed through Latchkey: the binding is gone, so nothing is put back.
    engine.clients_remove(&e, "work", &["cursor".into()]).unwrap();
    assert_eq!(cursor_state(&engine, &e, bridge), EntryState::Missing);
    assert!(engine.keep_configured_once(&e, bridge).unwrap().is_empty());
    assert_eq!(cursor_state(&engine, &e, bridge), EntryState::Missing);

    // With the setting off, a wiped entry stays wiped.
    engine.clients_add(&e, bridge, "work", &["cursor".into()], false).unwrap();
    engine.set_keep_configured(false).unwrap();
    std::fs::write(&file, "{}").unwrap();
    assert!(engine.keep_configured_once(&e, bridge).unwrap().is_empty());
    assert_eq!(cursor_state(&engine, &e, bridge), EntryState::Missing);
}
