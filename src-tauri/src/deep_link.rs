//! One-click links an admin can mail: `latchkey://connect/atlassian` and
//! `latchkey://reauth/<name>`. They start the same core calls as the tray. They are never the
//! OAuth redirect (that stays on a loopback listener).

use tauri::{AppHandle, Manager};
use tauri_plugin_deep_link::DeepLinkExt as _;

use crate::{Core, show_window, tray};

/// What a link asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    ConnectAtlassian,
    Reauth(String),
}

/// Parses a `latchkey://` link; anything else is `None`.
pub fn parse(url: &str) -> Option<Link> {
    let rest = url.strip_prefix("latchkey://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    match rest.split_once('/') {
        Some(("connect", "atlassian")) => Some(Link::ConnectAtlassian),
        Some(("reauth", name)) if latchkey_core::model::valid_name(name) => Some(Link::Reauth(name.to_owned())),
        _ => None,
    }
}

/// Handles one link: starts the sign-in it names, or just shows the window.
pub fn open(app: &AppHandle, url: &str) {
    tracing::info!("deep link: {url}");
    match parse(url) {
        Some(Link::ConnectAtlassian) => tray::start_connect(app),
        Some(Link::Reauth(name)) if app.state::<Core>().engine.connection(&name).is_ok() => tray::start_reauth(app, name),
        Some(Link::Reauth(name)) => {
            tracing::warn!("deep link names `{name}`, which is not a saved connection");
            show_window(app);
        }
        None => show_window(app),
    }
}

/// Registers the scheme (Linux/Windows: for this executable) and listens for links, including
/// the one this launch was started with and those a second launch forwards.
pub fn install(app: &AppHandle) {
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
    if let Err(e) = app.deep_link().register_all() {
        tracing::warn!("could not register latchkey:// links: {e}");
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            open(&handle, url.as_str());
        }
    });
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for url in urls {
            open(app, url.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_two_links() {
        assert_eq!(parse("latchkey://connect/atlassian"), Some(Link::ConnectAtlassian));
        assert_eq!(parse("latchkey://connect/atlassian/"), Some(Link::ConnectAtlassian));
        assert_eq!(parse("latchkey://reauth/acme-2"), Some(Link::Reauth("acme-2".into())));
        assert_eq!(parse("latchkey://reauth/Bad Name"), None);
        assert_eq!(parse("latchkey://reauth/"), None);
        assert_eq!(parse("latchkey://callback?code=x"), None);
        assert_eq!(parse("https://example.com/connect/atlassian"), None);
    }
}
