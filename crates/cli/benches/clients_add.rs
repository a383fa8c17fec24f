//! `latchkey clients add atlassian` across all 12 supported apps, from process start to exit,
//! against a same-run baseline (spawning `/bin/true`). Each iteration gets a fresh HOME where
//! every app looks installed, so all 12 files are created, backed up when present, and written
//! atomically. Needs `cargo build --release -p latchkey-cli` first (it times the release binary).
//!
//! Run: `cargo build --release -p latchkey-cli && cargo bench -p latchkey-cli --bench clients_add`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ITERATIONS: usize = 30;

fn binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let release = root.join("target/release/latchkey");
    if release.exists() {
        return release;
    }
    eprintln!("warning: target/release/latchkey is missing; timing the debug build");
    root.join("target/debug/latchkey")
}

/// A HOME in which every supported app looks installed, some with existing configs.
fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    for d in [
        ".cursor",
        ".codeium/windsurf",
        ".config/zed",
        ".config/Code/User/globalStorage/saoudrizwan.claude-dev/settings",
        ".gemini",
        ".codex",
        ".config/goose",
        ".continue",
        ".lmstudio",
        ".config/Claude",
        ".claude",
    ] {
        std::fs::create_dir_all(h.join(d)).expect("app dir");
    }
    std::fs::write(h.join(".config/zed/settings.json"), "// Zed\n{\n  \"theme\": \"One Dark\",\n}\n").expect("zed");
    std::fs::write(h.join(".codex/config.toml"), "model = \"o3\"\n").expect("codex");
    std::fs::write(h.join(".claude.json"), "{\"numStartups\": 3}\n").expect("claude");
    home
}

fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = r#"{"version":1,"connections":[{"name":"atlassian","url":"https://mcp.atlassian.com/v2/mcp","preset":"atlassian","auth":"none","state":{"state":"connected"}}]}"#;
    std::fs::write(dir.path().join("connections.json"), state).expect("state");
    dir
}

fn time(mut cmd: Command) -> Duration {
    let start = Instant::now();
    let out = cmd.output().expect("spawn");
    let took = start.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    took
}

fn add(bin: &Path, home: &Path, config: &Path) -> Command {
    let mut c = Command::new(bin);
    // PATH without client CLIs: every app is set up by editing its file.
    c.args(["clients", "add", "atlassian"])
        .env("HOME", home)
        .env("LATCHKEY_CONFIG_DIR", config)
        .env("PATH", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("CODEX_HOME")
        .env_remove("CLAUDE_CONFIG_DIR");
    c
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[(v.len() * 9 / 10).min(v.len() - 1)]))
}

fn main() {
    let bin = binary();
    let (mut first, mut again, mut base) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..ITERATIONS + 3 {
        let (h, c) = (home(), config_dir());
        let t1 = time(add(&bin, h.path(), c.path()));
        let written = ["/.cursor/mcp.json", "/.claude.json", "/.lmstudio/mcp.json", "/.continue/config.yaml", "/.codex/config.toml"]
            .iter()
            .filter(|f| Path::new(&format!("{}{f}", h.path().display())).exists())
            .count();
        assert_eq!(written, 5, "the apps' files were written");
        let t2 = time(add(&bin, h.path(), c.path()));
        let t0 = time(Command::new("/bin/true"));
        if i >= 3 {
            first.push(t1);
            again.push(t2);
            base.push(t0);
        }
    }
    let (b50, b90) = stats(base);
    let rows = [
        ("`clients add atlassian`, 12 apps, first run (12 files written)", stats(first)),
        ("`clients add atlassian`, 12 apps, already set up (no writes)", stats(again)),
    ];
    let mut table = String::from("| what | median ms | p90 ms | baseline: spawn /bin/true (median) | ratio | target |\n|---|---:|---:|---:|---:|---|\n");
    for (what, (m, p)) in rows {
        table.push_str(&format!(
            "| {what} | {m:.2} | {p:.2} | {b50:.2} (p90 {b90:.2}) | {:.1}x | < 50 ms, {} |\n",
            m / b50,
            if m < 50.0 { "met" } else { "not met" }
        ));
    }
    print!("{table}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-clients.md");
    let _ = std::fs::write(out, &table);
}
