//! Where each app's config lives on macOS, Windows and Linux, checked on any OS by injecting
//! the environment (no real files are touched except the MSIX package probe).

use std::path::PathBuf;

use latchkey_clients::{Env, Os, by_id};

fn env(os: Os) -> Env {
    match os {
        Os::Linux => Env {
            os,
            home: "/home/jane".into(),
            appdata: None,
            localappdata: None,
            xdg_config_home: None,
            codex_home: None,
            claude_config_dir: None,
            path: None,
        },
        Os::MacOs => Env {
            os,
            home: "/Users/jane".into(),
            appdata: None,
            localappdata: None,
            xdg_config_home: None,
            codex_home: None,
            claude_config_dir: None,
            path: None,
        },
        Os::Windows => Env {
            os,
            home: r"C:\Users\jane".into(),
            appdata: Some(r"C:\Users\jane\AppData\Roaming".into()),
            localappdata: Some(r"C:\Users\jane\AppData\Local".into()),
            xdg_config_home: None,
            codex_home: None,
            claude_config_dir: None,
            path: None,
        },
    }
}

fn paths(id: &str, e: &Env) -> Vec<String> {
    (by_id(id).unwrap().config_paths)(e).into_iter().map(|p: PathBuf| p.to_string_lossy().replace('\\', "/")).collect()
}

#[test]
fn linux_paths() {
    let e = env(Os::Linux);
    assert_eq!(paths("claude-desktop", &e), ["/home/jane/.config/Claude/claude_desktop_config.json"]);
    assert_eq!(paths("claude-code", &e), ["/home/jane/.claude.json"]);
    assert_eq!(paths("cursor", &e), ["/home/jane/.cursor/mcp.json"]);
    assert_eq!(paths("vscode", &e), ["/home/jane/.config/Code/User/mcp.json"]);
    assert_eq!(paths("windsurf", &e), ["/home/jane/.codeium/windsurf/mcp_config.json"]);
    assert_eq!(paths("zed", &e), ["/home/jane/.config/zed/settings.json"]);
    assert_eq!(paths("cline", &e), ["/home/jane/.config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"]);
    assert_eq!(paths("gemini", &e), ["/home/jane/.gemini/settings.json"]);
    assert_eq!(paths("codex", &e), ["/home/jane/.codex/config.toml"]);
    assert_eq!(paths("goose", &e), ["/home/jane/.config/goose/config.yaml"]);
    assert_eq!(paths("continue", &e), ["/home/jane/.continue/config.yaml"]);
    assert_eq!(paths("lm-studio", &e), ["/home/jane/.lmstudio/mcp.json"]);
}

#[test]
fn linux_honours_xdg_codex_home_and_claude_config_dir() {
    let mut e = env(Os::Linux);
    e.xdg_config_home = Some("/xdg".into());
    e.codex_home = Some("/codex".into());
    e.claude_config_dir = Some("/cc".into());
    assert_eq!(paths("zed", &e), ["/xdg/zed/settings.json"]);
    assert_eq!(paths("vscode", &e), ["/xdg/Code/User/mcp.json"]);
    assert_eq!(paths("codex", &e), ["/codex/config.toml"]);
    assert_eq!(paths("claude-code", &e), ["/cc/.claude.json"]);
}

#[test]
fn macos_paths() {
    let e = env(Os::MacOs);
    assert_eq!(paths("claude-desktop", &e), ["/Users/jane/Library/Application Support/Claude/claude_desktop_config.json"]);
    assert_eq!(paths("vscode", &e), ["/Users/jane/Library/Application Support/Code/User/mcp.json"]);
    assert_eq!(paths("zed", &e), ["/Users/jane/.config/zed/settings.json"]);
    assert_eq!(paths("goose", &e), ["/Users/jane/.config/goose/config.yaml"]);
    assert_eq!(paths("cursor", &e), ["/Users/jane/.cursor/mcp.json"]);
}

#[test]
fn windows_paths() {
    let e = env(Os::Windows);
    assert_eq!(paths("claude-desktop", &e), ["C:/Users/jane/AppData/Roaming/Claude/claude_desktop_config.json"]);
    assert_eq!(paths("vscode", &e), ["C:/Users/jane/AppData/Roaming/Code/User/mcp.json"]);
    assert_eq!(paths("zed", &e), ["C:/Users/jane/AppData/Roaming/Zed/settings.json"]);
    assert_eq!(paths("goose", &e), ["C:/Users/jane/AppData/Roaming/Block/goose/config/config.yaml"]);
    assert_eq!(paths("codex", &e), ["C:/Users/jane/.codex/config.toml"]);
}

#[test]
fn windows_msix_claude_desktop_is_added_when_the_package_exists() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = env(Os::Windows);
    e.appdata = Some(dir.path().join("Roaming"));
    e.localappdata = Some(dir.path().join("Local"));
    assert_eq!((by_id("claude-desktop").unwrap().config_paths)(&e).len(), 1, "no package, classic path only");
    std::fs::create_dir_all(dir.path().join("Local/Packages/Claude_pzs8sxrjxfjjc")).unwrap();
    let p = (by_id("claude-desktop").unwrap().config_paths)(&e);
    assert_eq!(p.len(), 2, "classic and MSIX paths together");
    assert!(p[1].ends_with("Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/claude_desktop_config.json"));
}
