//! `fake-atlassian [--port N] [--ttl SECS] [--grace SECS] [--issuer-bug] [--deny-consent]`:
//! runs the fake Atlassian (Rovo MCP server + authorization server) on 127.0.0.1 for manual
//! testing. Prints exactly one line, `MCP_URL=<url>`, to stdout, then serves until killed.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use latchkey_e2e::{FakeAtlassian, FakeOptions};

const USAGE: &str = "usage: fake-atlassian [--port N] [--ttl SECS] [--grace SECS] [--issuer-bug] [--deny-consent]";

fn parse_args() -> Result<(u16, FakeOptions), String> {
    let mut port = 0u16;
    let mut opts = FakeOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> Result<u64, String> { args.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{what} needs a number\n{USAGE}")) };
        match a.as_str() {
            "--port" => port = u16::try_from(num("--port")?).map_err(|e| e.to_string())?,
            "--ttl" => opts.access_token_ttl = Duration::from_secs(num("--ttl")?),
            "--grace" => opts.refresh_reuse_grace = Duration::from_secs(num("--grace")?),
            "--issuer-bug" => opts.issuer_bug = true,
            "--deny-consent" => opts.deny_consent = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok((port, opts))
}

#[tokio::main]
async fn main() {
    let (port, opts) = match parse_args() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let fake = match FakeAtlassian::start_on(SocketAddr::from(([127, 0, 0, 1], port)), opts).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fake-atlassian: cannot bind 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("MCP_URL={}", fake.mcp_url());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    fake.shutdown().await;
}
