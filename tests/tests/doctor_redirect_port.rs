//! Redirect URIs are matched exactly, port included. A stored registration for a redirect URL
//! the authorization server does not know ("redirect_uri is not registered for client") fails
//! the redirect check, and the next sign-in registers again (the doctor sets the stale port
//! aside). A redirect port another program holds is a warning with what to do.

#[path = "../src/doctor_support.rs"]
mod doctor_support;
#[path = "../src/support.rs"]
mod support;

use doctor_support::*;
use latchkey_core::ConnState;
use latchkey_core::doctor::{Status, checks};
use support::*;

#[tokio::test]
async fn an_unregistered_redirect_port_fails_and_the_next_sign_in_registers_again() {
    let (fake, env, lk) = signed_in().await;
    let registered = lk.connection("atlassian").unwrap().redirect_port.unwrap();
    // The saved registration now claims another port than the one the client was registered for.
    let other = loop {
        let p = free_port();
        if p != registered {
            break p;
        }
    };
    edit_state(&env.state_file(), "atlassian", |c| {
        c["redirect_port"] = other.into();
        c["registration"]["redirect_uri"] = format!("http://127.0.0.1:{other}/callback").into();
    });

    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::REGISTRATION, Status::Ok, &[]);
    expect(&r, checks::REDIRECT, Status::Fail, &["not registered", &format!("http://127.0.0.1:{other}/callback"), "port must match", "register again"]);
    assert!(!r.passed());
    // The doctor set the stale port aside, so the next sign-in registers again and works.
    assert_eq!(lk.connection("atlassian").unwrap().redirect_port, None);
    lk.sign_in("atlassian", None, None).await.expect("sign-in registers again");
    assert_eq!(fake.counters().registrations, 2);
    assert_eq!(lk.connection("atlassian").unwrap().state, ConnState::Connected);
    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::REDIRECT, Status::Ok, &["accepts the redirect url"]);
    fake.shutdown().await;
}

#[tokio::test]
async fn a_redirect_port_in_use_is_a_warning_with_an_action() {
    let (fake, _env, lk) = signed_in().await;
    let port = lk.connection("atlassian").unwrap().redirect_port.unwrap();
    let blocker = occupy_port(port);

    let r = doctor(&lk, "atlassian").await;
    expect(&r, checks::REDIRECT, Status::Warn, &[&format!("port {port}"), "in use", "picks another port"]);
    expect(&r, checks::REDIRECT, Status::Ok, &["accepts the redirect url"]);
    assert!(r.passed());
    drop(blocker);
    fake.shutdown().await;
}
