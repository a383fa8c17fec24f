//! The gateway's and the stdio bridge's cost, each figure next to a baseline measured in the
//! same run against the same minimal local MCP upstream (`src/bin/bench_upstream.rs`, a separate
//! process), so the hop itself is what is measured and the ratio is what to compare across
//! machines.
//!
//! Run (the bridge and `serve` rows use the release CLI; the keychain wrapper gives the CLI a
//! private Secret Service, although an auth-None connection never reads it):
//!
//! ```sh
//! cargo build --release -p latchkey-cli -p latchkey-bridge
//! npm install --prefix target/bench-node mcp-remote@0.15.1   # optional, for the side-by-side rows
//! scripts/with-keychain.sh cargo bench -p latchkey-e2e --bench gateway
//! ```
//!
//! To measure the binaries as shipped (`scripts/app.sh` builds them with the `app` profile):
//! `cargo build --profile app -p latchkey-cli -p latchkey-bridge`, then the same with
//! `LATCHKEY_BENCH_PROFILE=app`.
//!
//! What runs where: the in-process rows start `latchkey_gateway::Gateway` in this process with
//! an auth-None connection (made by `engine.connect` against the upstream) and a real local key
//! (`engine.issue_local_key`), so the key check is on the path. The bridge rows spawn what apps
//! run, `target/release/latchkey-bridge bench`: in-process mode (no key, so it hands over to
//! `latchkey bridge` by exec) and gateway mode (`LATCHKEY_KEY` set, `latchkey serve` running in
//! the same `LATCHKEY_CONFIG_DIR`, so the small binary relays itself). mcp-remote runs under the Node
//! 22 binary of `tests/node` when `target/bench-node` has it; otherwise its rows are skipped with a
//! printed reason. Only 127.0.0.1 is ever contacted; every loop is bounded in count and time.
//!
//! Prints a Markdown table and writes it to `target/bench-gateway.md`. With
//! `LATCHKEY_BENCH_LATENCY_ONLY=1` only the in-process latency rows run, and with
//! `LATCHKEY_BENCH_SERVE_LATENCY_ONLY=1` only the `latchkey serve` latency rows (for quick
//! experiments on the hop).

// The bench's modules live in benches/gateway/ so cargo does not take them for benches.
#[path = "gateway/bare_proxy.rs"]
mod bare_proxy;
#[path = "gateway/pinned.rs"]
mod pinned;
#[path = "gateway/report.rs"]
mod report;
#[path = "gateway/stdio.rs"]
mod stdio;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use latchkey_core::{ConnectRequest, Deps, Latchkey, Paths};
use latchkey_oauth::{OAuthError, Opener, SystemClock};
use latchkey_secrets::MemoryStore;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use latchkey_e2e::paths::{target_dir, workspace_root};
use latchkey_e2e::samples::Samples;
use report::*;
use stdio::*;

const CONNECTION: &str = "bench";
const WARMUP: usize = 300;
const LATENCY_PAIRS: usize = 5000;
const LATENCY_BUDGET: Duration = Duration::from_secs(12);
const BRIDGE_PAIRS: usize = 3000;
const CONCURRENCY: usize = 64;
const THROUGHPUT_WINDOW: Duration = Duration::from_secs(3);
const THROUGHPUT_ROUNDS: usize = 2;
const SSE_PAIRS: usize = 1000;
const SPAWNS: usize = 20;
const SPAWN_BUDGET: Duration = Duration::from_secs(20);
const MCP_REMOTE_VERSION: &str = "0.15.1";

/// An auth-None connection never opens a browser.
struct NoBrowser;
impl Opener for NoBrowser {
    fn open(&self, url: &str) -> Result<(), OAuthError> {
        Err(OAuthError::BrowserOpen { url: url.to_owned(), detail: "the bench has no browser".into() })
    }
}

// ---------------------------------------------------------------------------------------------
// Paths and processes

/// The cargo profile whose `latchkey` and `latchkey-bridge` the bridge and `serve` rows run:
/// `$LATCHKEY_BENCH_PROFILE`, `release` by default; `app` is what `scripts/app.sh` ships.
fn cli_profile() -> String {
    std::env::var("LATCHKEY_BENCH_PROFILE").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "release".into())
}

/// That profile's `latchkey` and, beside it, the small `latchkey-bridge` that apps run.
fn release_cli() -> Option<PathBuf> {
    let p = target_dir().join(cli_profile()).join("latchkey");
    (p.is_file() && p.with_file_name("latchkey-bridge").is_file()).then_some(p)
}

/// `LATCHKEY_BENCH_SERVE_LATENCY_ONLY`: only the `latchkey serve` latency rows.
fn serve_latency_only() -> bool {
    std::env::var_os("LATCHKEY_BENCH_SERVE_LATENCY_ONLY").is_some()
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// SIGTERM by pid (graceful stop), then wait up to 5 s, then SIGKILL.
async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    }
    if tokio::time::timeout(Duration::from_secs(5), child.wait()).await.is_err() {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}

/// Set when this bench binary runs as the bare proxy in a process of its own.
const BARE_PROXY_ENV: &str = "LATCHKEY_BENCH_BARE_PROXY";

/// A helper process that prints the port it listens on as its first line. Killed on drop; its
/// stdin closing also stops it.
struct Served {
    child: Child,
    port: u16,
}

impl Served {
    async fn start(mut command: Command) -> Result<Served, String> {
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true).spawn().map_err(|e| e.to_string())?;
        let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), out.read_line(&mut line)).await.map_err(|_| "no port within 10 s")?.map_err(|e| e.to_string())?;
        let port = line.trim().parse().map_err(|_| format!("printed {line:?}, not a port"))?;
        Ok(Served { child, port })
    }
}

/// The floor for `latchkey serve`: the bare proxy in a separate process (this binary started
/// again, with a multi-thread runtime like `serve`'s), so both pay the same process hops.
async fn bare_process(upstream: &str) -> Option<Served> {
    let mut command = Command::new(std::env::current_exe().ok()?);
    command.env(BARE_PROXY_ENV, upstream);
    Served::start(command).await.ok()
}

/// The bench's upstream, `bench_upstream`.
struct Upstream(Served);

impl Upstream {
    async fn start() -> Upstream {
        Upstream(Served::start(Command::new(env!("CARGO_BIN_EXE_bench_upstream"))).await.unwrap_or_else(|e| panic!("bench_upstream did not start: {e}")))
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.0.port)
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().tcp_nodelay(true).pool_max_idle_per_host(256).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn tools_call(id: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "echo", "arguments": {}}}).to_string()
}

fn initialize(id: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "latchkey-bench", "version": "1"}}}).to_string()
}

const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// An HTTP endpoint: the upstream directly, or a gateway route with its key.
#[derive(Clone)]
struct Endpoint {
    url: String,
    key: Option<String>,
}

impl Endpoint {
    fn post(&self, client: &reqwest::Client, body: String) -> reqwest::RequestBuilder {
        let mut req = client
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-06-18")
            .body(body);
        if let Some(k) = &self.key {
            req = req.header(latchkey_gateway::KEY_HEADER, k);
        }
        req
    }

    fn sse(&self, client: &reqwest::Client, query: &str) -> reqwest::RequestBuilder {
        let mut req = client.get(format!("{}{query}", self.url)).header("accept", "text/event-stream").header("mcp-protocol-version", "2025-06-18");
        if let Some(k) = &self.key {
            req = req.header(latchkey_gateway::KEY_HEADER, k);
        }
        req
    }

    /// One tools/call round trip, body read whole; microseconds.
    async fn call(&self, client: &reqwest::Client, id: u64) -> f64 {
        let t = Instant::now();
        let resp = self.post(client, tools_call(id)).send().await.expect("tools/call");
        assert!(resp.status().is_success(), "tools/call via {} answered {}", self.url, resp.status());
        let body = resp.bytes().await.expect("tools/call body");
        let took = t.elapsed().as_secs_f64() * 1e6;
        debug_assert!(body.windows(4).any(|w| w == b"\"ok\""));
        took
    }

    /// Time to the first SSE event of a `?once=1` stream (then read to its end, so the
    /// connection is reused); microseconds.
    async fn first_event(&self, client: &reqwest::Client) -> f64 {
        let t = Instant::now();
        let mut resp = self.sse(client, "?once=1").send().await.expect("SSE GET");
        assert!(resp.status().is_success(), "SSE via {} answered {}", self.url, resp.status());
        let mut seen = Vec::new();
        let mut took = None;
        while let Some(chunk) = resp.chunk().await.expect("SSE chunk") {
            seen.extend_from_slice(&chunk);
            if took.is_none() && seen.windows(2).any(|w| w == b"\n\n") {
                took = Some(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        took.expect("an SSE event arrived")
    }
}

/// Interleaved round trips after a warm-up, `(hop, direct)` in µs for each hop. Each round
/// pairs every hop with its own direct call, alternating the order, so all hops see the same
/// moments of the machine's load.
async fn paired_calls_each(client: &reqwest::Client, hops: &[&Endpoint], direct: &Endpoint, n: usize) -> Vec<Vec<(f64, f64)>> {
    for i in 0..WARMUP {
        for hop in hops {
            hop.call(client, i as u64).await;
            direct.call(client, i as u64).await;
        }
    }
    let start = Instant::now();
    let mut out = vec![Vec::with_capacity(n); hops.len()];
    for i in 0..n {
        if start.elapsed() > LATENCY_BUDGET {
            break;
        }
        for (hop, out) in hops.iter().zip(out.iter_mut()) {
            // Alternate the order so neither side always runs on a just-warmed path.
            let (h, d) = if i % 2 == 0 {
                let h = hop.call(client, i as u64).await;
                (h, direct.call(client, i as u64).await)
            } else {
                let d = direct.call(client, i as u64).await;
                (hop.call(client, i as u64).await, d)
            };
            out.push((h, d));
        }
    }
    out
}

/// Requests per second with `CONCURRENCY` clients in a loop for `THROUGHPUT_WINDOW`.
async fn throughput(client: &reqwest::Client, ep: &Endpoint) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let warm = Duration::from_millis(500);
    let end = Instant::now() + warm + THROUGHPUT_WINDOW;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CONCURRENCY {
        let (client, ep, done, counting) = (client.clone(), ep.clone(), done.clone(), counting.clone());
        tasks.spawn(async move {
            let mut id = (c as u64) << 32;
            while Instant::now() < end {
                id += 1;
                ep.call(&client, id).await;
                if counting.load(Ordering::Relaxed) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    tokio::time::sleep(warm).await;
    let before = done.load(Ordering::Relaxed);
    counting.store(true, Ordering::Relaxed);
    let t = Instant::now();
    tokio::time::sleep(THROUGHPUT_WINDOW).await;
    let counted = done.load(Ordering::Relaxed) - before;
    let secs = t.elapsed().as_secs_f64();
    while tasks.join_next().await.is_some() {}
    counted as f64 / secs
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported (one binary, one report).
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if let Ok(upstream) = std::env::var(BARE_PROXY_ENV) {
        // This binary started again as the separate-process floor (see `bare_process`).
        rt.block_on(async {
            let addr = bare_proxy::start(&upstream).await;
            println!("{}", addr.port());
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
        });
        return;
    }
    let report = rt.block_on(run());
    print!("{report}");
    let out = target_dir().join("bench-gateway.md");
    match std::fs::write(&out, &report) {
        Ok(()) => eprintln!("written to {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}

fn engine(dir: &Path) -> Latchkey {
    Latchkey::new(Deps {
        paths: Paths { config_dir: dir.to_path_buf() },
        store: Arc::new(MemoryStore::new()),
        opener: Arc::new(NoBrowser),
        clock: Arc::new(SystemClock),
        flow_timeout: Duration::from_secs(5),
        on_auth_url: None,
    })
    .expect("engine")
}

async fn run() -> String {
    let upstream = Upstream::start().await;
    let scratch = tempfile::tempdir().expect("tempdir");
    let client = http_client();
    let direct = Endpoint { url: upstream.url(), key: None };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    if serve_latency_only() {
        match release_cli() {
            Some(cli) => cli_rows(&cli, scratch.path(), &upstream, &client, &direct, 0.0, &mut rows, &mut notes).await,
            None => notes.push(format!("target/{}/latchkey is missing.", cli_profile())),
        }
        return table(&rows, &notes);
    }

    // The in-process gateway, an auth-None connection to the upstream, a real local key.
    let gw_dir = scratch.path().join("inprocess");
    let eng = engine(&gw_dir);
    let report = eng
        .connect(ConnectRequest { target: upstream.url(), name: Some(CONNECTION.into()), ..Default::default() })
        .await
        .expect("connect to the bench upstream");
    assert_eq!(report.tools, vec!["echo".to_owned()]);
    let (_, key) = eng.issue_local_key(CONNECTION, "bench").expect("issue a local key");
    let gateway = latchkey_gateway::Gateway::start(eng.clone(), &gw_dir, latchkey_gateway::Config::on_port(0)).await.expect("gateway starts");
    let via = Endpoint { url: format!("http://{}/mcp/{CONNECTION}", gateway.addr), key: Some(key.expose().clone()) };

    // The floor: a bare hyper proxy in front of the same upstream, in this process too.
    let bare = Endpoint { url: format!("http://{}/mcp", bare_proxy::start(&upstream.url()).await), key: None };

    // 1. Added latency per tools/call, the gateway and the bare proxy in the same rounds.
    let mut both = paired_calls_each(&client, &[&via, &bare], &direct, LATENCY_PAIRS).await;
    let floor = Paired::from(&both.remove(1));
    let lat = Paired::from(&both.remove(0));
    rows.push(Row {
        what: "tools/call round trip via the in-process gateway (key checked)".into(),
        n: lat.hop.len().to_string(),
        p50: us(lat.hop.p50()),
        p99: us(lat.hop.p99()),
        base_what: "direct to the upstream, interleaved".into(),
        base: format!("{} / {}", us(lat.direct.p50()), us(lat.direct.p99())),
        ratio: format!("{:.2}x", lat.hop.p50() / lat.direct.p50()),
        target: dash(),
        met: dash(),
    });
    rows.push(Row {
        what: "gateway added latency per tools/call (paired difference)".into(),
        n: lat.added.len().to_string(),
        p50: us(lat.added.p50()),
        p99: us(lat.added.p99()),
        base_what: "p99(via) − p99(direct)".into(),
        base: us(lat.hop.p99() - lat.direct.p99()),
        ratio: dash(),
        target: "< 100 µs p50, < 1 ms p99".into(),
        met: met(lat.added.p50() < 100.0 && lat.added.p99() < 1000.0),
    });
    rows.push(Row {
        what: "the floor: a bare hyper proxy's added latency (same rounds, paired difference)".into(),
        n: floor.added.len().to_string(),
        p50: us(floor.added.p50()),
        p99: us(floor.added.p99()),
        base_what: "gateway added p50 ÷ bare proxy added p50".into(),
        base: dash(),
        ratio: format!("{:.2}x", lat.added.p50() / floor.added.p50()),
        target: "(issue: about 130 µs on its machine)".into(),
        met: dash(),
    });

    if std::env::var_os("LATCHKEY_BENCH_LATENCY_ONLY").is_some() {
        // For quick experiments on the hop: section 1 only.
        return table(&rows, &notes);
    }

    // 2. Throughput at 64 concurrent clients, alternating rounds.
    let (mut d_rps, mut g_rps, mut b_rps) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..THROUGHPUT_ROUNDS {
        d_rps.push(throughput(&client, &direct).await);
        g_rps.push(throughput(&client, &via).await);
        b_rps.push(throughput(&client, &bare).await);
    }
    let direct_rps = d_rps.iter().sum::<f64>() / d_rps.len() as f64;
    let gw_rps = g_rps.iter().sum::<f64>() / g_rps.len() as f64;
    let bare_rps = b_rps.iter().sum::<f64>() / b_rps.len() as f64;
    rows.push(Row {
        what: format!("throughput, {CONCURRENCY} concurrent clients, via the in-process gateway"),
        n: format!("{THROUGHPUT_ROUNDS}×{}s", THROUGHPUT_WINDOW.as_secs()),
        p50: format!("{gw_rps:.0} req/s"),
        p99: dash(),
        base_what: format!("direct, {CONCURRENCY} concurrent clients"),
        base: format!("{direct_rps:.0} req/s"),
        ratio: format!("{:.0}%", 100.0 * gw_rps / direct_rps),
        target: "≥ 90% of direct".into(),
        met: met(gw_rps >= 0.9 * direct_rps),
    });
    rows.push(Row {
        what: format!("the floor: throughput via a bare hyper proxy, {CONCURRENCY} concurrent clients"),
        n: format!("{THROUGHPUT_ROUNDS}×{}s", THROUGHPUT_WINDOW.as_secs()),
        p50: format!("{bare_rps:.0} req/s"),
        p99: dash(),
        base_what: "direct (ratio) · gateway ÷ bare proxy".into(),
        base: format!("{:.0}% of direct", 100.0 * bare_rps / direct_rps),
        ratio: format!("{:.0}%", 100.0 * gw_rps / bare_rps),
        target: dash(),
        met: dash(),
    });

    // 3. Time to first SSE event.
    for _ in 0..50 {
        via.first_event(&client).await;
        direct.first_event(&client).await;
    }
    let mut sse = Vec::new();
    let t = Instant::now();
    for i in 0..SSE_PAIRS {
        if t.elapsed() > LATENCY_BUDGET {
            break;
        }
        if i % 2 == 0 {
            let h = via.first_event(&client).await;
            sse.push((h, direct.first_event(&client).await));
        } else {
            let d = direct.first_event(&client).await;
            sse.push((via.first_event(&client).await, d));
        }
    }
    let sse = Paired::from(&sse);
    rows.push(Row {
        what: "time to first SSE event via the in-process gateway".into(),
        n: sse.hop.len().to_string(),
        p50: us(sse.hop.p50()),
        p99: us(sse.hop.p99()),
        base_what: "direct, interleaved".into(),
        base: format!("{} / {}", us(sse.direct.p50()), us(sse.direct.p99())),
        ratio: format!("{:.2}x", sse.hop.p50() / sse.direct.p50()),
        target: dash(),
        met: dash(),
    });
    rows.push(Row {
        what: "gateway added time to first SSE event (paired difference)".into(),
        n: sse.added.len().to_string(),
        p50: us(sse.added.p50()),
        p99: us(sse.added.p99()),
        base_what: "-".into(),
        base: dash(),
        ratio: dash(),
        target: "< 1 ms more (p50)".into(),
        met: met(sse.added.p50() < 1000.0),
    });
    gateway.shutdown(Duration::from_secs(2)).await;

    // 4 and 6: the release CLI.
    match release_cli() {
        None => {
            let profile = cli_profile();
            let line = format!(
                "target/{profile}/latchkey or latchkey-bridge is missing: run `cargo build --profile {profile} -p latchkey-cli -p latchkey-bridge` first. Bridge and `serve` rows skipped."
            );
            eprintln!("{line}");
            notes.push(line);
        }
        Some(cli) => {
            notes.push(format!("The bridge and `serve` rows run `{}` and `latchkey-bridge` beside it (profile `{}`).", cli.display(), cli_profile()));
            cli_rows(&cli, scratch.path(), &upstream, &client, &direct, direct_rps, &mut rows, &mut notes).await
        }
    }

    // 5. mcp-remote, side by side.
    mcp_remote_rows(scratch.path(), &upstream, &client, &direct, direct_rps, &mut rows, &mut notes).await;

    notes.push(format!(
        "Upstream: `bench_upstream` (axum, separate process) on 127.0.0.1, stateless Streamable HTTP, small JSON answers; SSE `?once=1` streams send one event and end. Latency rows: {WARMUP} warm-ups, then up to {LATENCY_PAIRS} (stdio: {BRIDGE_PAIRS}) interleaved pairs on one keep-alive client, capped at {}s; \"added\" is the distribution of per-pair differences (hop − direct).",
        LATENCY_BUDGET.as_secs()
    ));
    notes.push(format!(
        "Throughput: {CONCURRENCY} tasks looping tools/call on one pooled client for {}s after 0.5s warm-up, {THROUGHPUT_ROUNDS} alternating rounds averaged. The load generator, the gateway and the upstream all share this machine's {} cores, so the gateway's own CPU is taken from the upstream and the client: the ratio is a CPU-cost ratio, not network headroom.",
        THROUGHPUT_WINDOW.as_secs(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    ));
    notes.push("RSS is VmRSS from /proc/<pid>/status. Targets are the issue's (issue 3, Benchmarks); mcp-remote's reference figures in parentheses are the issue's own measurement.".into());
    drop(upstream);
    table(&rows, &notes)
}

#[allow(clippy::too_many_arguments)]
async fn cli_rows(
    cli: &Path,
    scratch: &Path,
    upstream: &Upstream,
    client: &reqwest::Client,
    direct: &Endpoint,
    direct_rps: f64,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) {
    let dir = scratch.join("cli");
    let eng = engine(&dir);
    eng.connect(ConnectRequest { target: upstream.url(), name: Some(CONNECTION.into()), ..Default::default() }).await.expect("connect (cli dir)");
    let stderr = scratch.join("cli-stderr.log");
    // What apps run: the small bridge. Without a key it hands over to `latchkey bridge` (exec).
    let bridge = |key: Option<String>| {
        let (small, dir) = (cli.with_file_name("latchkey-bridge"), dir.clone());
        move || {
            let mut c = Command::new(&small);
            c.arg(CONNECTION).env("LATCHKEY_CONFIG_DIR", &dir).env("LATCHKEY_LOG", "warn").env_remove("LATCHKEY_KEY");
            if let Some(k) = &key {
                c.env("LATCHKEY_KEY", k);
            }
            c
        }
    };

    // 4, in-process mode: no key, no gateway running.
    let make = bridge(None);
    if !serve_latency_only() {
        match measure_stdio(&make, &stderr, direct, client, BRIDGE_PAIRS).await {
            Ok(f) => stdio_rows(rows, "`latchkey-bridge`, no gateway (hands over to `latchkey bridge`, in-process)", &f, direct_rps, true),
            Err(e) => notes.push(format!("bridge (in-process mode) failed: {e}; see {}", stderr.display())),
        }
    }

    // 6a. `latchkey serve` idle.
    let mut serve = match Command::new(cli)
        .args(["serve", "--port", "0"])
        .env("LATCHKEY_CONFIG_DIR", &dir)
        .env("LATCHKEY_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(&stderr).expect("stderr log")))
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            notes.push(format!("`latchkey serve` did not start: {e}"));
            return;
        }
    };
    let t = Instant::now();
    let running = loop {
        if let Some(r) = latchkey_gateway::running_instance(&dir) {
            break Some(r);
        }
        if t.elapsed() > Duration::from_secs(10) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let Some(running) = running else {
        notes.push(format!("`latchkey serve` did not write gateway.json within 10 s; see {}", stderr.display()));
        stop(&mut serve).await;
        return;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let serve_pid = serve.id().expect("serve pid");
    let idle = rss_kib(serve_pid);
    let (_, key) = eng.issue_local_key(CONNECTION, "bench-serve").expect("issue key (cli dir)");
    let key = key.expose().clone();
    let via_serve = Endpoint { url: format!("{}/mcp/{CONNECTION}", running.url()), key: Some(key.clone()) };

    // The separate-process gateway's added latency, for reference.
    let bare_process = bare_process(&upstream.url()).await;
    let bare_ep = bare_process.as_ref().map(|b| Endpoint { url: format!("http://127.0.0.1:{}/mcp", b.port), key: None });
    let mut hops = vec![&via_serve];
    hops.extend(bare_ep.as_ref());
    let mut measured = paired_calls_each(client, &hops, direct, LATENCY_PAIRS).await;
    let floor = (measured.len() > 1).then(|| Paired::from(&measured.remove(1)));
    let lat = Paired::from(&measured.remove(0));
    rows.push(Row {
        what: "gateway added latency per tools/call, `latchkey serve` process (paired difference)".into(),
        n: lat.added.len().to_string(),
        p50: us(lat.added.p50()),
        p99: us(lat.added.p99()),
        base_what: "direct p50 / p99, interleaved".into(),
        base: format!("{} / {}", us(lat.direct.p50()), us(lat.direct.p99())),
        ratio: format!("{:.2}x", lat.hop.p50() / lat.direct.p50()),
        target: "< 100 µs p50, < 1 ms p99".into(),
        met: met(lat.added.p50() < 100.0 && lat.added.p99() < 1000.0),
    });
    match &floor {
        Some(f) => rows.push(Row {
            what: "the floor for `serve`: the bare proxy in a process of its own, added latency (same rounds)".into(),
            n: f.added.len().to_string(),
            p50: us(f.added.p50()),
            p99: us(f.added.p99()),
            base_what: "`serve` added p50 ÷ this".into(),
            base: dash(),
            ratio: format!("{:.2}x", lat.added.p50() / f.added.p50()),
            target: dash(),
            met: dash(),
        }),
        None => notes.push("The separate-process bare proxy did not start; its rows are skipped.".into()),
    }
    if serve_latency_only() {
        stop(&mut serve).await;
        return;
    }
    let serve_rps = throughput(client, &via_serve).await;
    rows.push(Row {
        what: format!("throughput, {CONCURRENCY} concurrent clients, via `latchkey serve`"),
        n: format!("1×{}s", THROUGHPUT_WINDOW.as_secs()),
        p50: format!("{serve_rps:.0} req/s"),
        p99: dash(),
        base_what: format!("direct, {CONCURRENCY} concurrent clients"),
        base: format!("{direct_rps:.0} req/s"),
        ratio: format!("{:.0}%", 100.0 * serve_rps / direct_rps),
        target: "≥ 90% of direct".into(),
        met: met(serve_rps >= 0.9 * direct_rps),
    });

    if let Some(b) = &bare_ep {
        let bare_rps = throughput(client, b).await;
        rows.push(Row {
            what: format!("the floor for `serve`: throughput via the bare proxy in a process of its own, {CONCURRENCY} concurrent clients"),
            n: format!("1×{}s", THROUGHPUT_WINDOW.as_secs()),
            p50: format!("{bare_rps:.0} req/s"),
            p99: dash(),
            base_what: "direct (ratio) · `serve` ÷ bare proxy".into(),
            base: format!("{:.0}% of direct", 100.0 * bare_rps / direct_rps),
            ratio: format!("{:.0}%", 100.0 * serve_rps / bare_rps),
            target: dash(),
            met: dash(),
        });
    }

    // The same with the proxies on a core of their own (see `pinned.rs`).
    let load = [Some(std::process::id()), upstream.0.child.id()];
    let proxies = [Some(serve_pid), bare_process.as_ref().and_then(|b| b.child.id())];
    match pinned::split(&load.iter().flatten().copied().collect::<Vec<_>>(), &proxies.iter().flatten().copied().collect::<Vec<_>>()) {
        None => notes.push("The pinned throughput round needs two CPUs and `taskset`; skipped.".into()),
        Some(pinning) => {
            let direct_pinned = throughput(client, direct).await;
            let serve_pinned = throughput(client, &via_serve).await;
            let bare_pinned = match &bare_ep {
                Some(b) => Some(throughput(client, b).await),
                None => None,
            };
            drop(pinning);
            // Both rows compare with direct under the same pinning.
            let pinned_row = |what: String, rps: f64, target: String, met: String| Row {
                what,
                n: format!("1×{}s", THROUGHPUT_WINDOW.as_secs()),
                p50: format!("{rps:.0} req/s"),
                p99: dash(),
                base_what: "direct, same pinning".into(),
                base: format!("{direct_pinned:.0} req/s"),
                ratio: format!("{:.0}%", 100.0 * rps / direct_pinned),
                target,
                met,
            };
            rows.push(pinned_row(
                format!("throughput, {CONCURRENCY} concurrent clients, via `latchkey serve` on a core of its own (load generator and upstream on the other)"),
                serve_pinned,
                "≥ 90% of direct".into(),
                met(serve_pinned >= 0.9 * direct_pinned),
            ));
            if let Some(bare_pinned) = bare_pinned {
                rows.push(pinned_row(
                    "the floor, same pinning: the bare proxy in a process of its own on a core of its own".into(),
                    bare_pinned,
                    dash(),
                    dash(),
                ));
            }
        }
    }
    drop(bare_process);

    // 4, gateway mode: LATCHKEY_KEY set and `latchkey serve` running.
    let make = bridge(Some(key.clone()));
    match measure_stdio(&make, &stderr, direct, client, BRIDGE_PAIRS).await {
        Ok(f) => stdio_rows(rows, "`latchkey-bridge`, gateway mode (relays to `latchkey serve`)", &f, direct_rps, true),
        Err(e) => notes.push(format!("bridge (gateway mode) failed: {e}; see {}", stderr.display())),
    }
    // The bridge's own share of that: paired against HTTP to the same gateway.
    match bridge_own_cost(&make, &stderr, &via_serve, client).await {
        Ok(own) => rows.push(Row {
            what: "`latchkey-bridge`, gateway mode: the bridge's own added latency (paired difference)".into(),
            n: own.added.len().to_string(),
            p50: us(own.added.p50()),
            p99: us(own.added.p99()),
            base_what: "HTTP to the same `latchkey serve`, interleaved".into(),
            base: format!("{} / {}", us(own.direct.p50()), us(own.direct.p99())),
            ratio: format!("{:.2}x", own.hop.p50() / own.direct.p50()),
            target: "< 200 µs p50".into(),
            met: met(own.added.p50() < 200.0),
        }),
        Err(e) => notes.push(format!("bridge (gateway mode, own cost) failed: {e}; see {}", stderr.display())),
    }

    // 6b. 64 open SSE streams through `serve`.
    let after_load = rss_kib(serve_pid);
    let stream_client = http_client();
    let mut streams = Vec::new();
    let mut opened = 0;
    for _ in 0..CONCURRENCY {
        let resp = match tokio::time::timeout(Duration::from_secs(5), via_serve.sse(&stream_client, "").send()).await {
            Ok(Ok(r)) if r.status().is_success() => r,
            _ => continue,
        };
        streams.push(resp);
    }
    for s in &mut streams {
        if let Ok(Ok(Some(_))) = tokio::time::timeout(Duration::from_secs(5), s.chunk()).await {
            opened += 1;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_streams = rss_kib(serve_pid);
    drop(streams);
    rows.push(Row {
        what: "`latchkey serve` RSS idle (after start)".into(),
        n: "1".into(),
        p50: idle.map(mb).unwrap_or_else(|| "?".into()),
        p99: dash(),
        base_what: "after the latency, throughput and bridge runs".into(),
        base: after_load.map(mb).unwrap_or_else(|| "?".into()),
        ratio: dash(),
        target: "< 15 MB".into(),
        met: idle.map(|k| met((k as f64) < 15.0 * 1024.0)).unwrap_or_else(dash),
    });
    rows.push(Row {
        what: format!("`latchkey serve` RSS with {opened} open SSE streams"),
        n: "1".into(),
        p50: with_streams.map(mb).unwrap_or_else(|| "?".into()),
        p99: dash(),
        base_what: "-".into(),
        base: dash(),
        ratio: dash(),
        target: "< 40 MB at 64 streams".into(),
        met: with_streams.map(|k| met(opened == CONCURRENCY && (k as f64) < 40.0 * 1024.0)).unwrap_or_else(dash),
    });
    stop(&mut serve).await;
}
