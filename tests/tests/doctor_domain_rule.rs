//! An org domain rule that only allows `localhost` redirects: the doctor's browserless probe of
//! the authorization URL sees the "Your admin must authorize this redirect URL" page and fails
//! the redirect check with a ready-to-send message asking for both 127.0.0.1 and localhost.

#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use doctor_support::*;
use latchkey_core::doctor::{Status, checks};

#[tokio::test]
async fn a_domain_rule_is_explained_with_a_message_for_the_admin() {
    let (fake, _env, lk) = signed_in().await;
    // The org admin turns on a rule that allows only `localhost`; Latchkey redirects to 127.0.0.1.
    fake.set_options(|o| o.domain_rule = Some("localhost".into()));

    let r = doctor(&lk, "atlassian").await;
    let f = expect(&r, checks::REDIRECT, Status::Fail, &["domain rule", "http://127.0.0.1:", "admin"]);
    let msg = f.admin_message.as_deref().expect("a message for the admin");
    for w in ["http://127.0.0.1", "http://localhost", "Your admin must authorize this redirect URL", "Latchkey"] {
        assert!(msg.contains(w), "{w} missing from: {msg}");
    }
    assert!(f.action.as_deref().unwrap().contains("organization admin"), "{f:?}");
    // The existing sign-in still works until it expires.
    expect(&r, checks::TOKENS, Status::Ok, &[]);
    expect(&r, checks::TOOLS, Status::Ok, &["7 tools"]);
    assert!(!r.passed());
    fake.shutdown().await;
}
