//! A server nobody answers at: the network check fails with the plain cause (refused) and an
//! action, and every later check is skipped rather than reported as its own failure.

#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use std::sync::Arc;

use doctor_support::*;
use latchkey_core::doctor::{Status, checks};
use latchkey_oauth::SystemClock;
use support::*;

#[tokio::test]
async fn an_unreachable_server_fails_the_network_check_only() {
    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let url = format!("http://127.0.0.1:{}/v2/mcp", free_port());
    let name = lk.resolve("atlassian", None, Some(&url), &Default::default()).unwrap();

    let r = doctor(&lk, &name).await;
    let f = expect(&r, checks::NETWORK, Status::Fail, &["127.0.0.1", "refused the connection", "check the url"]);
    assert_eq!(r.findings[0].check, checks::NETWORK, "{f:?}");
    skipped(&r, &[checks::DISCOVERY, checks::REGISTRATION, checks::REDIRECT, checks::CONSENT, checks::TOKENS, checks::TOOLS]);
    assert!(r.findings_of(checks::DISCOVERY).all(|f| f.summary.contains("cannot be reached")));
    assert!(!r.passed());
    let report = lk.doctor(None, &app_env(env.config_dir())).await.unwrap();
    assert!(!report.passed);
}
