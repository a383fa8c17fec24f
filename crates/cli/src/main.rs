//! `latchkey`: the command-line shell over `latchkey-core`. Parsing and printing only; every
//! decision is made in core. Errors print as one plain line (or `{kind, message}` with --json)
//! and exit 1.

mod doctor;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use latchkey_core::{ApiToken, ClientOptions, ConnectRequest, CoreError, Deps, Latchkey, Paths};
use latchkey_oauth::{SystemClock, SystemOpener, flow::DEFAULT_TIMEOUT};
use latchkey_secrets::{KeychainStore, SecretString};

#[derive(Parser)]
#[command(name = "latchkey", version, about = "Connect your AI tools to your company's MCP servers.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add a connection and sign in: `latchkey connect atlassian` or `latchkey connect https://…/mcp`.
    Connect {
        /// A preset (atlassian), a saved connection, or the server's URL.
        target: String,
        /// A name for the connection (default: the preset or the host).
        #[arg(long)]
        name: Option<String>,
        /// Use this URL for a preset (another region or a test server).
        #[arg(long)]
        url: Option<String>,
        /// Sign in again in the browser even if the connection still works.
        #[arg(long, conflicts_with = "api_token")]
        reauth: bool,
        /// Use an API token instead of the browser (read from $LATCHKEY_API_TOKEN or standard input).
        #[arg(long)]
        api_token: bool,
        /// With --api-token: your account email (a personal token). Without it, the token is a service-account key.
        #[arg(long, requires = "api_token")]
        email: Option<String>,
        /// With atlassian-dc: your Confluence Server/Data Center address (Jira's is --url).
        #[arg(long)]
        confluence_url: Option<String>,
        /// With --api-token: the Atlassian site to use, e.g. acme.atlassian.net (tokens are not bound to one).
        #[arg(long, requires = "api_token")]
        site: Option<String>,
        #[command(flatten)]
        client: ClientFlags,
        #[arg(long)]
        json: bool,
    },
    /// Show every connection and its health.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Sign in if needed, then list the server's tools.
    Check {
        /// A saved connection, a preset, or a URL.
        target: String,
        #[command(flatten)]
        client: ClientFlags,
        #[arg(long)]
        json: bool,
    },
    /// Call one tool and print its result.
    Call {
        target: String,
        tool: String,
        /// The tool's arguments as a JSON object.
        #[arg(long)]
        args: Option<String>,
        #[command(flatten)]
        client: ClientFlags,
    },
    /// Sign out: revoke at the server when possible and delete the stored secrets.
    Logout { name: String },
    /// Run the local gateway in the foreground (the tray app runs the same one).
    Serve {
        /// The port on 127.0.0.1 (default: the saved one, else 47219). Saved for next time.
        #[arg(long)]
        port: Option<u16>,
    },
    /// Speak MCP over stdin/stdout for apps that only start local commands (Claude Desktop).
    Bridge {
        connection: String,
        /// The app's local key (usually set by Latchkey in the app's config as $LATCHKEY_KEY).
        #[arg(long, env = "LATCHKEY_KEY", hide_env_values = true)]
        key: Option<String>,
    },
    /// Manage the local keys apps use to reach the gateway.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Set up your AI apps: list them, add or remove Latchkey's entry, restore a backup.
    Clients {
        #[command(subcommand)]
        action: Option<ClientsAction>,
        #[arg(long)]
        json: bool,
    },
    /// Start a local MCP server with its secrets from the keychain as environment variables.
    Run {
        connection: String,
        /// The command to run instead of the connection's own (after `--`).
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Save any local stdio MCP server as a connection: `latchkey add-local NAME --env K=V --secret-env TOKEN -- cmd args`.
    AddLocal {
        name: String,
        /// A plain environment variable for the server.
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// A secret variable; its value is read from standard input (one line each, in order).
        #[arg(long = "secret-env", value_name = "KEY")]
        secret_env: Vec<String>,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Diagnose a connection (or all) step by step and say what to do.
    Doctor {
        connection: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Move a connection on Atlassian's retired /v1 endpoints to /v2/mcp (then sign in again).
    Migrate { connection: String },
    /// Let the gateway add this connection's only Atlassian site (cloudId) to tool calls that omit it.
    DefaultSite {
        connection: String,
        #[arg(value_parser = ["on", "off"])]
        switch: String,
    },
    /// Let apps that cannot send headers use a connection without a key (less safe).
    Keyless {
        connection: String,
        #[arg(value_parser = ["on", "off"])]
        switch: String,
    },
}

#[derive(Subcommand)]
enum ClientsAction {
    /// Add or update Latchkey's entry for a connection (every detected app without --client).
    Add {
        connection: String,
        /// An app id (claude-desktop, claude-code, cursor, vscode, windsurf, zed, cline, gemini, codex, goose, continue, lm-studio).
        #[arg(long = "client")]
        clients: Vec<String>,
        /// Replace an entry of the same name that Latchkey did not write.
        #[arg(long)]
        force: bool,
    },
    /// Remove Latchkey's entry and revoke that app's key.
    Remove {
        connection: String,
        #[arg(long = "client")]
        clients: Vec<String>,
    },
    /// Put back the last backup Latchkey made of an app's config.
    Restore { client: String },
    /// Whether `latchkey serve` puts entries back when an app wipes them (default on).
    KeepSetUp {
        #[arg(value_parser = ["on", "off"])]
        switch: String,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Issue a key for an app; it is printed once and only its hash is kept.
    Issue {
        connection: String,
        /// Which app it is for, e.g. cursor.
        #[arg(long)]
        label: String,
    },
    /// List issued keys (ids and labels, never the keys).
    List,
    /// Revoke one key by id.
    Revoke { id: String },
}

#[derive(Args, Clone, Default)]
struct ClientFlags {
    /// A client id registered for Latchkey by your administrator.
    #[arg(long)]
    client_id: Option<String>,
    /// The secret of that client, if it has one (or set $LATCHKEY_CLIENT_SECRET).
    #[arg(long, env = "LATCHKEY_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// The URL of a Client ID Metadata Document to use as client id (CIMD).
    #[arg(long)]
    client_metadata_url: Option<String>,
}

impl ClientFlags {
    fn options(self) -> ClientOptions {
        ClientOptions { client_id: self.client_id, client_secret: self.client_secret.map(SecretString::from), client_metadata_url: self.client_metadata_url }
    }
}

fn engine() -> Result<Latchkey, CoreError> {
    let store = KeychainStore::new(latchkey_core::vault::SERVICE);
    Latchkey::new(Deps {
        paths: Paths::from_env()?,
        store: Arc::new(store),
        opener: Arc::new(SystemOpener),
        clock: Arc::new(SystemClock),
        flow_timeout: std::env::var("LATCHKEY_FLOW_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(std::time::Duration::from_secs)
            .unwrap_or(DEFAULT_TIMEOUT),
        on_auth_url: Some(Arc::new(|url: &str| eprintln!("Opening your browser to sign in. If it does not open, visit:\n  {url}"))),
    })
}

/// Fails early, in plain words, when no keychain is reachable (never falls back to files).
fn require_keychain() -> Result<(), CoreError> {
    KeychainStore::new(latchkey_core::vault::SERVICE).probe().map_err(CoreError::from)
}

fn read_api_token() -> Result<SecretString, CoreError> {
    read_secret("LATCHKEY_API_TOKEN", "API token")
}

/// A secret from `$var`, else one line of standard input (never from the command line).
fn read_secret(var: &str, what: &str) -> Result<SecretString, CoreError> {
    if let Ok(t) = std::env::var(var)
        && !t.trim().is_empty()
    {
        return Ok(SecretString::from(t.trim().to_owned()));
    }
    if std::io::stdin().is_terminal() {
        eprint!("Paste the {what} and press Enter: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| CoreError::Invalid(e.to_string()))?;
    let t = line.trim().to_owned();
    if t.is_empty() {
        return Err(CoreError::Invalid(format!("No {what} was given. Set ${var} or paste it when asked.")));
    }
    Ok(SecretString::from(t))
}

async fn run(cmd: Command) -> Result<(), (CoreError, bool)> {
    let plain = |e: CoreError| (e, false);
    match cmd {
        Command::Status { json } => {
            let views = engine().and_then(|e| e.status()).map_err(|e| (e, json))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&views).expect("views serialize"));
            } else if views.is_empty() {
                println!("No connections yet. Run `latchkey connect atlassian` to add one.");
            } else {
                for v in views {
                    let site = v.site.as_deref().map(|s| format!(" · {s}")).unwrap_or_default();
                    let account = v.account.as_deref().map(|s| format!(" · {s}")).unwrap_or_default();
                    let used = if v.requests > 0 { format!(" · {} requests, {} errors", v.requests, v.errors) } else { String::new() };
                    let keyless = if v.allow_keyless { " · keyless access on (less safe)" } else { "" };
                    let expiry = match (v.expires_at, v.refreshable) {
                        (_, true) => " · renews automatically".to_owned(),
                        (Some(at), false) => format!(" · sign-in expires {}", in_words(at)),
                        (None, false) => String::new(),
                    };
                    println!("{}{site}{account} · {}{expiry}{used}{keyless} · {}", v.name, v.summary, v.url);
                }
            }
            Ok(())
        }
        Command::Connect { target, name, url, confluence_url, .. } if target == latchkey_core::local::DC_PRESET => {
            let run = async {
                require_keychain()?;
                eprintln!(
                    "Rovo MCP is Cloud only; for Server/Data Center Latchkey runs the open-source mcp-atlassian locally with your personal access token(s)."
                );
                let jira_token = if url.is_some() { Some(read_secret("LATCHKEY_API_TOKEN", "Jira personal access token")?) } else { None };
                let confluence_token =
                    if confluence_url.is_some() { Some(read_secret("LATCHKEY_CONFLUENCE_TOKEN", "Confluence personal access token")?) } else { None };
                let dc = latchkey_core::local::DataCenter { name, jira_url: url, jira_token, confluence_url, confluence_token, command: None };
                engine()?.connect_atlassian_dc(dc).await
            };
            let account = run.await.map_err(plain)?;
            let who = account.map(|a| format!(" as {a}")).unwrap_or_default();
            println!("Saved the Data Center connection{who}. Set your apps up with `latchkey clients add {}`.", latchkey_core::local::DC_PRESET);
            Ok(())
        }
        Command::Run { connection, command } => run_local(&connection, command).map_err(plain),
        Command::AddLocal { name, env, secret_env, command } => {
            let mut plain_env = std::collections::BTreeMap::new();
            for kv in env {
                let (k, v) = kv.split_once('=').ok_or_else(|| plain(CoreError::Invalid(format!("--env wants KEY=VALUE, not `{kv}`."))))?;
                plain_env.insert(k.to_owned(), v.to_owned());
            }
            require_keychain().map_err(plain)?;
            let mut secrets = Vec::new();
            for var in secret_env {
                secrets.push((var.clone(), read_secret(&format!("LATCHKEY_SECRET_{var}"), &var).map_err(plain)?));
            }
            let label = command.join(" ");
            engine().and_then(|e| e.add_local(&name, &format!("stdio:{label}"), None, command, plain_env, secrets)).map_err(plain)?;
            println!("Saved `{name}`. Apps will run it through `latchkey run {name}`; set them up with `latchkey clients add {name}`.");
            Ok(())
        }
        Command::Connect { target, name, url, api_token, email, site, client, json, reauth, .. } => {
            let run = async {
                require_keychain()?;
                let api_token = if api_token {
                    let token = read_api_token()?;
                    Some(match email {
                        Some(email) => ApiToken::Personal { email, token },
                        None => ApiToken::ServiceKey(token),
                    })
                } else {
                    None
                };
                if api_token.is_some() {
                    eprintln!("API tokens work only if an organisation admin has enabled API-token access for Atlassian's MCP server.");
                }
                engine()?.connect(ConnectRequest { target, name, url, client: client.options(), api_token, site, reauth }).await
            };
            let report = run.await.map_err(|e| (e, json))?;
            print_report(&report, json);
            Ok(())
        }
        Command::Check { target, client, json } => {
            let run = async {
                require_keychain()?;
                engine()?.check(&target, &client.options()).await
            };
            let report = run.await.map_err(|e| (e, json))?;
            print_report(&report, json);
            Ok(())
        }
        Command::Call { target, tool, args, client } => {
            let args = match args {
                Some(a) => Some(serde_json::from_str(&a).map_err(|e| plain(CoreError::Invalid(format!("--args is not valid JSON: {e}"))))?),
                None => None,
            };
            require_keychain().map_err(plain)?;
            let result = engine().map_err(plain)?.call(&target, &tool, args, &client.options()).await.map_err(plain)?;
            println!("{}", serde_json::to_string_pretty(&result).expect("a Value serializes"));
            if result.get("isError").and_then(|v| v.as_bool()) == Some(true) {
                return Err((CoreError::Invalid(format!("The tool `{tool}` reported an error (shown above).")), false));
            }
            Ok(())
        }
        Command::Serve { port } => serve(port).await.map_err(plain),
        Command::Bridge { connection, key } => {
            let engine = engine().map_err(plain)?;
            engine.connection(&connection).map_err(plain)?;
            let dir = Paths::from_env().map_err(plain)?.config_dir;
            latchkey_gateway::bridge::run(engine, &connection, key, &dir, tokio::io::stdin(), tokio::io::stdout())
                .await
                .map_err(|e| plain(CoreError::Invalid(e.to_string())))
        }
        Command::Key { action } => {
            let engine = engine().map_err(plain)?;
            match action {
                KeyAction::Issue { connection, label } => {
                    let (_, key) = engine.issue_local_key(&connection, &label).map_err(plain)?;
                    println!("{}", key.expose());
                }
                KeyAction::List => {
                    for k in engine.local_keys().map_err(plain)? {
                        println!("{}  {}  {}", k.id, k.connection, k.label);
                    }
                }
                KeyAction::Revoke { id } => {
                    let n = engine.revoke_local_key_id(&id).map_err(plain)?;
                    if n == 0 {
                        return Err(plain(CoreError::Invalid(format!("No key has the id `{id}`. Run `latchkey key list`."))));
                    }
                    println!("Revoked key {id}.");
                }
            }
            Ok(())
        }
        Command::Clients { action, json } => clients(action, json).map_err(|e| (e, json)),
        Command::Doctor { connection, json } => {
            let engine = engine().map_err(plain)?;
            let passed = doctor::run(&engine, connection.as_deref(), json).await.map_err(|e| (e, json))?;
            if passed { Ok(()) } else { Err((CoreError::Invalid("The doctor found problems (see above).".into()), json)) }
        }
        Command::Migrate { connection } => {
            let url = engine().and_then(|e| e.migrate_atlassian_endpoint(&connection)).map_err(plain)?;
            println!("`{connection}` now uses {url}. Sign in again with `latchkey connect {connection}`.");
            Ok(())
        }
        Command::DefaultSite { connection, switch } => {
            engine().and_then(|e| e.set_pinned_site(&connection, switch == "on")).map_err(plain)?;
            println!(
                "{}",
                if switch == "on" { "Tool calls without a cloudId now go to this connection's site." } else { "Tool calls must name their cloudId again." }
            );
            Ok(())
        }
        Command::Keyless { connection, switch } => {
            let on = switch == "on";
            engine().and_then(|e| e.set_keyless(&connection, on)).map_err(plain)?;
            if on {
                println!(
                    "Apps can now use `{connection}` through the gateway without a key. Any program on this computer can then use it; turn it off again with `latchkey keyless {connection} off`."
                );
            } else {
                println!("Apps need their key again to use `{connection}`.");
            }
            Ok(())
        }
        Command::Logout { name } => {
            require_keychain().map_err(plain)?;
            let revoked = engine().map_err(plain)?.logout(&name).await.map_err(plain)?;
            if revoked {
                println!("Signed out of {name}; the server revoked the sign-in and the secrets were deleted.");
            } else {
                println!("Signed out of {name}; the secrets were deleted.");
            }
            Ok(())
        }
    }
}

async fn serve(port: Option<u16>) -> Result<(), CoreError> {
    let engine = engine()?;
    let port = match port {
        Some(p) => p,
        None => engine.gateway_port()?,
    };
    let dir = Paths::from_env()?.config_dir;
    let config = latchkey_gateway::Config::on_port(port);
    let gateway = latchkey_gateway::Gateway::start(engine.clone(), &dir, config).await.map_err(|e| CoreError::Invalid(e.to_string()))?;
    if engine.gateway_port()? != gateway.addr.port() {
        // Remembered only once it worked, so client configs written later point at it.
        engine.set_gateway_port(gateway.addr.port())?;
    }
    let mut events = engine.subscribe();
    let reporter = tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            if let latchkey_core::Event::ClientRestored { app_name, connection, .. } = e {
                eprintln!("Restored {app_name}'s setup for {connection}.");
            }
        }
    });
    let keeper = engine.start_keeper(latchkey_clients::Env::current(), bridge_path())?;
    eprintln!("Latchkey gateway listening on http://{}/mcp/<connection>. Press Ctrl-C to stop.", gateway.addr);
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated() => {}
    }
    eprintln!("Stopping the gateway…");
    engine.cancel_sign_in();
    keeper.stop().await;
    reporter.abort();
    gateway.shutdown(std::time::Duration::from_secs(5)).await;
    Ok(())
}

/// `latchkey run`: replaces this process with the server, secrets in its environment only.
fn run_local(connection: &str, command: Vec<String>) -> Result<(), CoreError> {
    let spec = engine()?.run_spec(connection, command)?;
    let (program, args) = spec.command.split_first().ok_or_else(|| CoreError::Invalid("No command to run.".into()))?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    for (k, v) in &spec.env {
        cmd.env(k, v.expose());
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(CoreError::Invalid(format!("Could not start `{program}`: {err}")))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(|e| CoreError::Invalid(format!("Could not start `{program}`: {e}")))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

/// The `latchkey` executable itself, written into stdio-only apps' configs.
fn bridge_path() -> std::path::PathBuf {
    std::env::current_exe().and_then(std::fs::canonicalize).unwrap_or_else(|_| "latchkey".into())
}

fn clients(action: Option<ClientsAction>, json: bool) -> Result<(), CoreError> {
    let engine = engine()?;
    let env = latchkey_clients::Env::current();
    let bridge = bridge_path();
    let print_changes = |changes: Vec<latchkey_core::client_setup::AppChange>, verb: &str| {
        if json {
            println!("{}", serde_json::to_string_pretty(&changes).expect("changes serialize"));
            return;
        }
        if changes.is_empty() {
            println!("Nothing to change.");
        }
        for c in changes {
            match (&c.error, c.written.is_empty()) {
                (Some(e), _) => eprintln!("{}: not changed. {}", c.name, e.message),
                (None, true) => println!("{}: already set up.", c.name),
                (None, false) => println!("{}: {verb}. {}", c.name, c.note),
            }
        }
    };
    match action {
        None => {
            let apps = engine.clients_overview(&env, &bridge)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&apps).expect("views serialize"));
                return Ok(());
            }
            for a in apps {
                let installed = if a.installed { "installed" } else { "not found" };
                if a.connections.is_empty() {
                    println!("{:<15} {installed:<10} not set up", a.name);
                }
                for c in &a.connections {
                    for f in &c.files {
                        let state = match &f.state {
                            latchkey_clients::EntryState::Missing => "not set up".to_owned(),
                            latchkey_clients::EntryState::Current => "set up".to_owned(),
                            latchkey_clients::EntryState::Stale { reason } => format!("out of date ({reason})"),
                            latchkey_clients::EntryState::Broken { reason } => format!("broken ({reason})"),
                            latchkey_clients::EntryState::Foreign => "has another server with this name".to_owned(),
                        };
                        println!("{:<15} {installed:<10} {} → {state} ({})", a.name, c.connection, f.path.display());
                    }
                }
            }
        }
        Some(ClientsAction::Add { connection, clients, force }) => {
            let changes = engine.clients_add(&env, &bridge, &connection, &clients, force)?;
            let failed = changes.iter().filter(|c| c.error.is_some()).count();
            print_changes(changes, "set up");
            if failed > 0 {
                return Err(CoreError::Invalid(format!("{failed} app(s) could not be set up; see above.")));
            }
        }
        Some(ClientsAction::Remove { connection, clients }) => print_changes(engine.clients_remove(&env, &connection, &clients)?, "removed"),
        Some(ClientsAction::KeepSetUp { switch }) => {
            engine.set_keep_configured(switch == "on")?;
            println!(
                "{}",
                if switch == "on" {
                    "Latchkey will put its entries back when an app removes them."
                } else {
                    "Latchkey will no longer put entries back when an app removes them."
                }
            );
        }
        Some(ClientsAction::Restore { client }) => {
            for p in engine.clients_restore(&env, &client)? {
                println!("Restored {}", p.display());
            }
        }
    }
    Ok(())
}

/// "in 3 hours", "2 minutes ago": when `at` (unix seconds) is, relative to now.
fn in_words(at: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (delta, future) = if at >= now { (at - now, true) } else { (now - at, false) };
    let amount = match delta {
        0..=89 => "a minute".to_owned(),
        90..=5399 => format!("{} minutes", (delta + 30) / 60),
        5400..=129_599 => format!("{} hours", (delta + 1800) / 3600),
        _ => format!("{} days", (delta + 43_200) / 86_400),
    };
    if future { format!("in {amount}") } else { format!("{amount} ago") }
}

/// SIGTERM (what service managers and `kill` send).
#[cfg(unix)]
async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending().await
}

fn print_report(r: &latchkey_core::CheckReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(r).expect("reports serialize"));
    } else {
        let place = r.site.as_deref().or(r.server.as_deref()).unwrap_or("the server");
        let who = r.account.as_deref().map(|a| format!(" as {a}")).unwrap_or_default();
        println!("{}: connected to {place}{who} ({} tools)", r.name, r.tools.len());
        for note in &r.notes {
            eprintln!("note: {note}");
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| "warn,rmcp::transport::worker=off".into()))
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    // The gateway serves many apps at once: give it every core. Other commands are short and
    // mostly wait on I/O, so one thread starts faster and uses less memory.
    let mut builder =
        if matches!(cli.command, Command::Serve { .. }) { tokio::runtime::Builder::new_multi_thread() } else { tokio::runtime::Builder::new_current_thread() };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err((e, json)) => {
            if json {
                println!("{}", serde_json::json!({ "error": e.to_view() }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
