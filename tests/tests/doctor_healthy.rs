//! `latchkey doctor` on a healthy Atlassian connection: every check is ok (network, discovery,
//! registration, redirect, consent, tokens, tools with the count and the granted site, the app
//! entry and the gateway), the JSON form carries the same, and the CLI rendering marks each line.
//! Also: the site picked on the consent screen is the one the doctor reports.

#[path = "../../crates/cli/src/doctor.rs"]
#[allow(dead_code)]
mod cli_doctor;
#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use doctor_support::*;
use latchkey_core::doctor::{Status, checks};
use latchkey_e2e::{FakeAtlassian, FakeOptions, FakeSite};
use latchkey_oauth::SystemClock;
use support::*;

#[tokio::test]
async fn a_healthy_connection_passes_every_check() {
    let (fake, env, lk) = signed_in().await;

    // An app set up for the connection, and a "gateway" listening where gateway.json says.
    let gateway = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = gateway.local_addr().unwrap().port();
    lk.set_gateway_port(port).unwrap();
    std::fs::write(env.config_dir().join("gateway.json"), format!("{{\"pid\": {}, \"port\": {port}}}", std::process::id())).unwrap();
    let home = tempfile::tempdir().unwrap();
    let apps = app_env(home.path());
    lk.clients_add(&apps, &bridge(), "atlassian", &["cursor".to_owned()], false).unwrap();

    let before = fake.counters();
    let r = doctor_in(&lk, "atlassian", &apps).await;
    all_ok(&r);
    let order: Vec<&str> = r.findings.iter().map(|f| f.check).collect();
    assert_eq!(
        order,
        [
            checks::NETWORK,
            checks::DISCOVERY,
            checks::REGISTRATION,
            checks::REDIRECT,
            checks::CONSENT,
            checks::TOKENS,
            checks::TOOLS,
            checks::CLIENTS,
            checks::GATEWAY
        ],
        "{}",
        show(&r)
    );
    expect(&r, checks::NETWORK, Status::Ok, &["reached 127.0.0.1", "asks for a sign-in"]);
    expect(&r, checks::DISCOVERY, Status::Ok, &[&fake.issuer()]);
    expect(&r, checks::REDIRECT, Status::Ok, &["accepts the redirect url"]);
    expect(&r, checks::TOKENS, Status::Ok, &["refresh token is stored"]);
    expect(&r, checks::TOOLS, Status::Ok, &["7 tools", "site: acme (https://acme.atlassian.net)"]);
    expect(&r, checks::CLIENTS, Status::Ok, &["cursor", "current"]);
    expect(&r, checks::GATEWAY, Status::Ok, &[&format!("127.0.0.1:{port}")]);
    // No secret in the report, and no sign-in, registration or refresh was made.
    let (access, refresh) = stored_tokens(&env.store, "atlassian").unwrap();
    let json = show(&r);
    assert!(!json.contains(&access) && !json.contains(&refresh.unwrap()));
    let after = fake.counters();
    assert_eq!((after.registrations, after.code_exchanges, after.refreshes), (before.registrations, before.code_exchanges, 0), "{after:?}");

    // The whole report (all connections) and its JSON form.
    let report = lk.doctor(None, &apps).await.unwrap();
    assert!(report.passed);
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["connections"][0]["findings"][0]["check"], "network_and_proxy");
    assert_eq!(v["connections"][0]["findings"][0]["status"], "ok");
    assert!(v["connections"][0]["findings"][0].get("admin_message").is_none());

    // The CLI's rendering: one marked line per finding.
    let text = cli_doctor::render(&report);
    assert!(text.starts_with("atlassian · "), "{text}");
    assert_eq!(text.lines().filter(|l| l.trim_start().starts_with("✓ ")).count(), r.findings.len(), "{text}");
    assert!(text.contains("Everything checked is working."), "{text}");
    drop(gateway);
    fake.shutdown().await;
}

#[tokio::test]
async fn the_site_picked_at_consent_is_the_one_reported() {
    let mut opts = FakeOptions::default();
    opts.sites.push(FakeSite { cloud_id: "22222222-2222-2222-2222-222222222222".into(), name: "globex".into(), url: "https://globex.atlassian.net".into() });
    opts.consent_site = Some("22222222-2222-2222-2222-222222222222".into());
    let fake = FakeAtlassian::start(opts).await.unwrap();
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    lk.connect(atlassian_request(&fake)).await.expect("connect");
    let r = doctor(&lk, "atlassian").await;
    let tools = expect(&r, checks::TOOLS, Status::Ok, &["7 tools", "globex"]);
    assert!(!tools.summary.contains("acme"), "{tools:?}");
    // No app is set up yet: that is pointed out, not failed.
    expect(&r, checks::CLIENTS, Status::Skipped, &["latchkey clients add atlassian"]);
    fake.shutdown().await;
}

/// The tray app is not the `latchkey` executable: it passes the path written into stdio apps'
/// entries (`doctor_with`), so Claude Desktop's `latchkey-bridge` entry is judged against it.
#[tokio::test]
async fn the_app_judges_stdio_entries_against_the_latchkey_it_wrote() {
    let (fake, _env, lk) = signed_in().await;
    let home = tempfile::tempdir().unwrap();
    let apps = app_env(home.path());
    let shipped = std::path::Path::new("/opt/latchkey/bin/latchkey");
    lk.clients_add(&apps, shipped, "atlassian", &["claude-desktop".to_owned()], false).unwrap();

    let report = lk.doctor_with(Some("atlassian"), &apps, shipped).await.unwrap();
    let r = report.connection("atlassian").unwrap();
    expect(r, checks::CLIENTS, Status::Ok, &["claude desktop", "current"]);

    // Judged against another executable, the same entry is out of date and says so.
    let elsewhere = lk.doctor_with(Some("atlassian"), &apps, std::path::Path::new("/usr/local/bin/latchkey")).await.unwrap();
    let f = elsewhere.connection("atlassian").unwrap().finding(checks::CLIENTS).unwrap().clone();
    assert_ne!(f.status, Status::Ok, "{f:?}");
    assert!(f.summary.to_lowercase().contains("another place"), "{f:?}");
    fake.shutdown().await;
}
