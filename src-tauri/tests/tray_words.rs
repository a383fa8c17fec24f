//! The tray's words and icon state, from core's connection views.

use latchkey_app::tray::{GatewayHealth, Health, health, line};
use latchkey_core::ConnectionView;

fn view(name: &str, state: &'static str, summary: &str) -> ConnectionView {
    ConnectionView {
        name: name.into(),
        url: "https://mcp.atlassian.com/v1/mcp".into(),
        preset: Some("atlassian".into()),
        auth: latchkey_core::AuthKind::OAuth,
        state,
        summary: summary.into(),
        account: Some("Jane".into()),
        site: Some("acme.atlassian.net".into()),
        expires_at: None,
        refreshable: true,
        requests: 0,
        errors: 0,
        last_used: None,
        allow_keyless: false,
    }
}

#[test]
fn menu_line_reads_like_the_spec() {
    assert_eq!(line(&view("atlassian", "connected", "Connected")), "Atlassian · acme.atlassian.net · Connected");
    assert_eq!(line(&view("acme-2", "connected", "Connected")), "acme-2 · acme.atlassian.net · Connected");
}

#[test]
fn icon_state_follows_the_worst_connection() {
    let running = GatewayHealth::Running(47219);
    assert_eq!(health(&[view("a", "connected", "Connected")], &running, None).0, Health::Ok);
    assert_eq!(health(&[view("a", "connected", "Connected"), view("b", "expiring_soon", "soon")], &running, None).0, Health::Attention);
    let (h, words) = health(&[view("a", "needs_step_up", "x"), view("b", "needs_reauth", "y")], &running, None);
    assert_eq!(h, Health::Broken);
    assert!(words.contains("b needs you to sign in again"), "{words}");
    assert_eq!(health(&[view("a", "connected", "Connected")], &running, Some("Zed")).0, Health::Attention);
    assert_eq!(health(&[view("a", "connected", "Connected")], &GatewayHealth::Down("port in use".into()), None).0, Health::Broken);
    assert_eq!(health(&[], &running, None).0, Health::Attention);
}
