//! Helpers shared by the `doctor_*` tests (included with `#[path]`); no tests of its own.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use latchkey_core::Latchkey;
use latchkey_core::doctor::{ConnectionReport, Env, Os, Status};
use latchkey_e2e::{FakeAtlassian, FakeOptions};
use latchkey_oauth::SystemClock;

/// A fake Atlassian and an engine signed in to it (connection `atlassian`), in a fresh config
/// dir; the test `Env` holds that dir, so keep it alive.
pub async fn signed_in() -> (FakeAtlassian, crate::support::Env, Latchkey) {
    let fake = FakeAtlassian::start(FakeOptions::default()).await.unwrap();
    let env = crate::support::Env::new();
    let lk = crate::support::engine(&env, Arc::new(crate::support::HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(crate::support::atlassian_request(&fake)).await.expect("connect");
    (fake, env, lk)
}

/// An app environment rooted in a temp dir (no real config is ever touched).
pub fn app_env(home: &Path) -> Env {
    Env::with_home(Os::Linux, home)
}

/// The `latchkey` path written into stdio entries (irrelevant for the HTTP apps used here).
pub fn bridge() -> PathBuf {
    std::env::current_exe().and_then(std::fs::canonicalize).unwrap()
}

/// Runs the doctor for one connection with an empty app environment.
pub async fn doctor(lk: &Latchkey, name: &str) -> ConnectionReport {
    let home = tempfile::tempdir().unwrap();
    doctor_in(lk, name, &app_env(home.path())).await
}

pub async fn doctor_in(lk: &Latchkey, name: &str, env: &Env) -> ConnectionReport {
    let report = lk.doctor(Some(name), env).await.expect("doctor runs");
    assert_eq!(report.connections.len(), 1);
    let c = report.connections.into_iter().next().unwrap();
    for f in &c.findings {
        assert!(!f.summary.contains('\n'), "a finding is one line: {f:?}");
        assert!(!f.summary.trim().is_empty(), "{f:?}");
    }
    c
}

pub fn show(r: &ConnectionReport) -> String {
    serde_json::to_string_pretty(r).unwrap()
}

/// Asserts some finding of `check` has `status` and that its summary, action and admin message
/// together contain every word of `words` (case-insensitive). Returns that finding.
pub fn expect<'a>(r: &'a ConnectionReport, check: &str, status: Status, words: &[&str]) -> &'a latchkey_core::doctor::Finding {
    let found = r.findings.iter().filter(|f| f.check == check).find(|f| {
        let text = format!("{} {} {}", f.summary, f.action.as_deref().unwrap_or(""), f.admin_message.as_deref().unwrap_or("")).to_lowercase();
        f.status == status && words.iter().all(|w| text.contains(&w.to_lowercase()))
    });
    found.unwrap_or_else(|| panic!("no {status:?} finding of `{check}` mentioning {words:?} in:\n{}", show(r)))
}

/// Every finding is `ok`.
pub fn all_ok(r: &ConnectionReport) {
    for f in &r.findings {
        assert_eq!(f.status, Status::Ok, "not ok: {f:?}\nfull report:\n{}", show(r));
    }
}

/// Every finding of these checks was skipped.
pub fn skipped(r: &ConnectionReport, checks: &[&str]) {
    for c in checks {
        let f = r.finding(c).unwrap_or_else(|| panic!("no `{c}` finding in:\n{}", show(r)));
        assert_eq!(f.status, Status::Skipped, "{f:?}");
    }
}

/// Edits the saved connection `name` in connections.json directly (to stage broken states).
pub fn edit_state(state_file: &Path, name: &str, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(state_file).unwrap()).unwrap();
    let conn = v["connections"].as_array_mut().unwrap().iter_mut().find(|c| c["name"] == name).unwrap();
    f(conn);
    std::fs::write(state_file, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap().port()
}
