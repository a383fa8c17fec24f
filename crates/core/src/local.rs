//! Local stdio MCP servers whose secrets come from the vault: Atlassian Server / Data Center
//! through the open-source `mcp-atlassian` (shared/seeds/004), or any stdio server.
//!
//! Invariant: secrets never reach a file. Apps' configs run `latchkey run <connection>`, which
//! reads the secrets from the keychain and hands them to the server as environment variables.

use std::collections::BTreeMap;

use latchkey_secrets::SecretString;

use crate::api::Latchkey;
use crate::error::{CoreError, Result};
use crate::model::{AuthKind, ConnState, Connection, LocalServer, valid_name};

/// The preset name for Atlassian Server / Data Center.
pub const DC_PRESET: &str = "atlassian-dc";
/// What runs by default for Data Center (Python's `uvx` fetches and runs `mcp-atlassian`).
pub const DC_COMMAND: [&str; 2] = ["uvx", "mcp-atlassian"];

/// Input of [`Latchkey::connect_atlassian_dc`].
#[derive(Debug, Clone)]
pub struct DataCenter {
    pub name: Option<String>,
    pub jira_url: Option<String>,
    pub jira_token: Option<SecretString>,
    pub confluence_url: Option<String>,
    pub confluence_token: Option<SecretString>,
    /// Overrides [`DC_COMMAND`].
    pub command: Option<Vec<String>>,
}

/// What `latchkey run` starts.
pub struct RunSpec {
    pub command: Vec<String>,
    /// Plain and secret variables together, secrets still wrapped.
    pub env: Vec<(String, SecretString)>,
}

impl Latchkey {
    /// Saves a local server connection and its secret variables (keychain first, then state).
    pub fn add_local(
        &self,
        name: &str,
        url: &str,
        preset: Option<&str>,
        command: Vec<String>,
        env: BTreeMap<String, String>,
        secrets: Vec<(String, SecretString)>,
    ) -> Result<()> {
        if !valid_name(name) {
            return Err(CoreError::Invalid(format!("`{name}` is not a valid connection name: use lowercase letters, digits, `-` and `_`.")));
        }
        if command.is_empty() {
            return Err(CoreError::Invalid("Give the command that starts the MCP server, after `--`.".into()));
        }
        if let Some(existing) = self.storage().load()?.get(name)
            && existing.local.is_none()
        {
            return Err(CoreError::NameTaken(name.to_owned()));
        }
        for (var, value) in &secrets {
            self.vault().set_env_secret(name, var, value)?;
        }
        let mut conn = Connection::new(name.to_owned(), url.to_owned(), preset.map(str::to_owned));
        conn.auth = AuthKind::None;
        conn.state = ConnState::Connected;
        conn.local = Some(LocalServer { command, env, secret_env: secrets.into_iter().map(|(v, _)| v).collect() });
        self.storage().update(|st| {
            st.upsert(conn);
            Ok(())
        })?;
        self.emit_state(name);
        Ok(())
    }

    /// `latchkey connect atlassian-dc`: checks each personal access token once against its
    /// server, then saves a local `mcp-atlassian` connection. Returns the account name.
    pub async fn connect_atlassian_dc(&self, dc: DataCenter) -> Result<Option<String>> {
        let name = dc.name.clone().unwrap_or_else(|| DC_PRESET.to_owned());
        let mut env = BTreeMap::new();
        let mut secrets = Vec::new();
        let mut account = None;
        let products =
            [("JIRA", &dc.jira_url, &dc.jira_token, "/rest/api/2/myself"), ("CONFLUENCE", &dc.confluence_url, &dc.confluence_token, "/rest/api/user/current")];
        for (prefix, url, token, check_path) in products {
            let Some(url) = url else { continue };
            let token = token.clone().ok_or_else(|| CoreError::Invalid(format!("A personal access token for {url} is needed.")))?;
            let base = url.trim_end_matches('/');
            let parsed = latchkey_oauth::http::parse_url(base)?;
            latchkey_oauth::http::require_secure("server URL", &parsed)?;
            account = account.or(self.check_personal_token(base, check_path, &token).await?);
            env.insert(format!("{prefix}_URL"), base.to_owned());
            secrets.push((format!("{prefix}_PERSONAL_TOKEN"), token));
        }
        let Some(main_url) = dc.jira_url.clone().or(dc.confluence_url.clone()) else {
            return Err(CoreError::Invalid("Give your server's address with --url (Jira) and/or --confluence-url.".into()));
        };
        let command = dc.command.clone().unwrap_or_else(|| DC_COMMAND.map(String::from).to_vec());
        self.add_local(&name, main_url.trim_end_matches('/'), Some(DC_PRESET), command, env, secrets)?;
        let who = account.clone();
        self.update_connection(&name, |c| c.account = who)?;
        Ok(account)
    }

    /// One GET with the token; its answer names the account.
    async fn check_personal_token(&self, base: &str, path: &str, token: &SecretString) -> Result<Option<String>> {
        let url = format!("{base}{path}");
        let resp = self
            .reqwest()
            .get(&url)
            .bearer_auth(token.expose())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| CoreError::Mcp { url: base.to_owned(), detail: format!("it could not be reached ({e})") })?;
        match resp.status().as_u16() {
            200..=299 => {
                let v: serde_json::Value = resp.json().await.unwrap_or_default();
                Ok(v.get("displayName").or_else(|| v.get("name")).and_then(|n| n.as_str()).map(str::to_owned))
            }
            401 | 403 => Err(CoreError::Invalid(format!(
                "{base} refused the personal access token. Create a new one under your profile → Personal Access Tokens, and try again."
            ))),
            s => Err(CoreError::Mcp { url: base.to_owned(), detail: format!("it answered HTTP {s} when checking the token") }),
        }
    }

    /// What `latchkey run <name>` starts: the connection's command (or `override_command`) and
    /// its environment with the secrets read from the keychain.
    pub fn run_spec(&self, name: &str, override_command: Vec<String>) -> Result<RunSpec> {
        let conn = self.connection(name)?;
        let local = conn.local.ok_or_else(|| {
            CoreError::Invalid(format!("`{name}` is not a local server connection; `latchkey run` starts local servers (see `latchkey connect atlassian-dc`)."))
        })?;
        let command = if override_command.is_empty() { local.command } else { override_command };
        let mut env: Vec<(String, SecretString)> = local.env.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect();
        for var in &local.secret_env {
            let value = self
                .vault()
                .env_secret(name, var)?
                .ok_or_else(|| CoreError::ReauthRequired { name: name.to_owned(), reason: format!("the secret {var} is missing from the keychain") })?;
            env.push((var.clone(), value));
        }
        Ok(RunSpec { command, env })
    }
}
