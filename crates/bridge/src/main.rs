//! `latchkey-bridge <connection>`: what a stdio-only MCP client (Claude Desktop) launches.
//!
//! With a local key in `$LATCHKEY_KEY` and a gateway running (the tray app or `latchkey serve`),
//! it relays stdio to that gateway over loopback HTTP. Otherwise it hands over to
//! `latchkey bridge <connection>` beside it, which runs the gateway's router in-process (so a
//! client still works when the tray app is not running). On Unix the hand-over is an `exec`:
//! same process, same stdio. Nothing but JSON-RPC is ever written to stdout; problems go to
//! stderr, which clients keep in their logs.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use latchkey_bridge::{Loopback, config_dir};

const USAGE: &str = "usage: latchkey-bridge <connection>\n\nRelays an MCP client's stdio to a Latchkey connection. Apps are set up to run it by\n`latchkey clients add`; there is no need to run it by hand.";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let connection = match args.as_slice() {
        [a] if a == "--help" || a == "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [a] if a == "--version" || a == "-V" => {
            println!("latchkey-bridge {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        [a] => match a.to_str().filter(|s| valid_name(s)) {
            Some(s) => s.to_owned(),
            None => return fail(&format!("\"{}\" is not a connection name (lowercase letters, digits, '-' and '_')", a.to_string_lossy())),
        },
        _ => return fail(USAGE),
    };
    let key = std::env::var("LATCHKEY_KEY").ok();
    match config_dir().and_then(|d| Loopback::to_running(&d, &connection, key.as_deref())) {
        Some(Ok(target)) => relay(target),
        Some(Err(e)) => fail(&e),
        None => hand_over(&connection),
    }
}

fn relay(target: Loopback) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(&format!("could not start: {e}")),
    };
    runtime.block_on(latchkey_bridge::stdio::run(target, tokio::io::stdin(), tokio::io::stdout()));
    ExitCode::SUCCESS
}

/// No gateway to relay to: `latchkey bridge <connection>` does the whole job in-process.
fn hand_over(connection: &str) -> ExitCode {
    let latchkey = sibling("latchkey");
    let mut cmd = std::process::Command::new(&latchkey);
    cmd.arg("bridge").arg(connection);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = cmd.exec();
        fail(&format!("could not start {}: {e}", latchkey.display()))
    }
    #[cfg(not(unix))]
    match cmd.status() {
        Ok(s) => ExitCode::from(s.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(e) => fail(&format!("could not start {}: {e}", latchkey.display())),
    }
}

/// `name` beside this executable (the app ships them together), else found on PATH.
fn sibling(name: &str) -> PathBuf {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join(&file))).filter(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(file))
}

/// Core's rule for connection names (`latchkey_core::model::valid_name`), which also keeps the
/// name safe in the gateway URL.
fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && !s.starts_with('-') && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn fail(message: &str) -> ExitCode {
    eprintln!("latchkey-bridge: {message}");
    ExitCode::from(2)
}
