//! App entries: a stale entry (its key revoked, or pointing at an old gateway port) is a warning
//! whose action is `latchkey clients add`; a gateway that is not running is a warning whose
//! action is to start it.

#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use doctor_support::*;
use latchkey_core::doctor::{Status, checks};

#[tokio::test]
async fn a_stale_app_entry_and_a_stopped_gateway_are_warned_about() {
    let (fake, env, lk) = signed_in().await;
    let home = tempfile::tempdir().unwrap();
    let apps = app_env(home.path());
    lk.clients_add(&apps, &bridge(), "atlassian", &["cursor".to_owned(), "windsurf".to_owned()], false).unwrap();

    // No gateway has ever run.
    let r = doctor_in(&lk, "atlassian", &apps).await;
    expect(&r, checks::CLIENTS, Status::Ok, &["cursor", "current"]);
    expect(&r, checks::GATEWAY, Status::Warn, &["not running", "cursor", "latchkey serve"]);

    // Cursor's key is revoked: its entry is stale.
    lk.revoke_local_keys("atlassian", Some("cursor")).unwrap();
    let r = doctor_in(&lk, "atlassian", &apps).await;
    expect(&r, checks::CLIENTS, Status::Warn, &["cursor", "out of date", "key was revoked", "latchkey clients add atlassian --client cursor"]);
    expect(&r, checks::CLIENTS, Status::Ok, &["windsurf", "current"]);

    // The gateway moved to another port: both entries point at the old one.
    let gateway = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = gateway.local_addr().unwrap().port();
    lk.set_gateway_port(port).unwrap();
    std::fs::write(env.config_dir().join("gateway.json"), format!("{{\"pid\": 1, \"port\": {port}}}")).unwrap();
    let r = doctor_in(&lk, "atlassian", &apps).await;
    expect(&r, checks::CLIENTS, Status::Warn, &["windsurf", "out of date", "points at", "latchkey clients add atlassian --client windsurf"]);
    expect(&r, checks::GATEWAY, Status::Ok, &["running"]);
    // Warnings only: the connection itself works.
    assert!(r.passed());

    // The entry is deleted behind Latchkey's back.
    lk.clients_add(&apps, &bridge(), "atlassian", &[], false).unwrap();
    std::fs::remove_file(home.path().join(".cursor").join("mcp.json")).unwrap();
    let r = doctor_in(&lk, "atlassian", &apps).await;
    expect(&r, checks::CLIENTS, Status::Warn, &["cursor", "entry is gone", "latchkey clients add atlassian --client cursor"]);
    drop(gateway);
    fake.shutdown().await;
}
