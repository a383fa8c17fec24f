//! Bookkeeping for the fake Atlassian: registered clients, authorization codes, token
//! families with rotating refresh tokens, access tokens, MCP sessions and counters.
//!
//! All of it sits behind one `Mutex` in [`super::Shared`]; handlers never hold the lock
//! across an `.await`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::{Counters, FakeOptions};

/// PKCE S256: `BASE64URL(SHA256(verifier))` without padding.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A random URL-safe token with a readable prefix, e.g. `at_3hF...`.
pub(crate) fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A dynamically registered client.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub redirect_uris: Vec<String>,
}

/// An issued, not yet redeemed authorization code.
#[derive(Clone, Debug)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub resource: String,
    pub scope: String,
    pub cloud_id: String,
    pub issued_at: Instant,
}

/// One grant: every refresh token and access token descended from one code exchange.
#[derive(Clone, Debug)]
pub(crate) struct Family {
    pub client_id: String,
    pub scope: String,
    pub cloud_id: String,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct RefreshRecord {
    pub family: u64,
    /// When this refresh token was first redeemed (it is "used" from then on).
    pub first_used: Option<Instant>,
}

#[derive(Clone, Debug)]
pub(crate) struct AccessRecord {
    pub family: u64,
    pub expires_at: Instant,
    pub expired: bool,
}

/// Outcome of redeeming a refresh token.
pub(crate) enum RefreshOutcome {
    Issued(serde_json::Value),
    Invalid(&'static str),
    WrongClient,
}

pub(crate) struct State {
    pub opts: FakeOptions,
    pub counters: Counters,
    pub clients: HashMap<String, Client>,
    pub codes: HashMap<String, AuthCode>,
    pub families: HashMap<u64, Family>,
    pub refresh: HashMap<String, RefreshRecord>,
    pub access: HashMap<String, AccessRecord>,
    pub sessions: HashSet<String>,
    next_family: u64,
}

/// Authorization codes are valid this long.
pub(crate) const CODE_TTL: Duration = Duration::from_secs(600);

impl State {
    pub fn new(opts: FakeOptions) -> State {
        State {
            opts,
            counters: Counters::default(),
            clients: HashMap::new(),
            codes: HashMap::new(),
            families: HashMap::new(),
            refresh: HashMap::new(),
            access: HashMap::new(),
            sessions: HashSet::new(),
            next_family: 1,
        }
    }

    pub fn expire_all_access_tokens(&mut self) {
        for rec in self.access.values_mut() {
            rec.expired = true;
        }
    }

    /// The family of a currently valid access token, if any.
    pub fn valid_access_family(&self, token: &str) -> Option<u64> {
        let rec = self.access.get(token)?;
        let fam = self.families.get(&rec.family)?;
        (!rec.expired && !fam.revoked && Instant::now() < rec.expires_at).then_some(rec.family)
    }

    /// Starts a new token family from a redeemed authorization code and issues its tokens.
    pub fn start_family(&mut self, code: &AuthCode) -> serde_json::Value {
        let id = self.next_family;
        self.next_family += 1;
        self.families.insert(id, Family { client_id: code.client_id.clone(), scope: code.scope.clone(), cloud_id: code.cloud_id.clone(), revoked: false });
        self.issue(id)
    }

    /// Issues a fresh access token (and refresh token if `offline_access` was granted).
    fn issue(&mut self, family: u64) -> serde_json::Value {
        let ttl = self.opts.access_token_ttl;
        let scope = self.families[&family].scope.clone();
        let access_token = random_token("at_");
        self.access.insert(access_token.clone(), AccessRecord { family, expires_at: Instant::now() + ttl, expired: false });
        let mut body = serde_json::json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
            "scope": scope,
        });
        if scope.split(' ').any(|s| s == "offline_access") {
            let rt = random_token("rt_");
            self.refresh.insert(rt.clone(), RefreshRecord { family, first_used: None });
            body["refresh_token"] = rt.into();
        }
        body
    }

    /// Redeems a refresh token: rotation, reuse leeway and family revocation.
    pub fn redeem_refresh(&mut self, token: &str, client_id: &str) -> RefreshOutcome {
        let Some(rec) = self.refresh.get(token).cloned() else {
            return RefreshOutcome::Invalid("unknown refresh token");
        };
        let Some(fam) = self.families.get(&rec.family) else {
            return RefreshOutcome::Invalid("unknown refresh token");
        };
        if fam.client_id != client_id {
            return RefreshOutcome::WrongClient;
        }
        if fam.revoked {
            return RefreshOutcome::Invalid("refresh token was revoked");
        }
        let now = Instant::now();
        match rec.first_used {
            None => {
                if let Some(r) = self.refresh.get_mut(token) {
                    r.first_used = Some(now);
                }
            }
            Some(first) if now.duration_since(first) < self.opts.refresh_reuse_grace => {}
            Some(_) => {
                self.revoke_family(rec.family);
                return RefreshOutcome::Invalid("refresh token was already used");
            }
        }
        RefreshOutcome::Issued(self.issue(rec.family))
    }

    pub fn revoke_family(&mut self, family: u64) {
        if let Some(f) = self.families.get_mut(&family) {
            f.revoked = true;
        }
    }

    /// Revokes the family of an access or refresh token; unknown tokens are ignored.
    pub fn revoke_token(&mut self, token: &str) {
        let family = self.access.get(token).map(|r| r.family).or_else(|| self.refresh.get(token).map(|r| r.family));
        if let Some(f) = family {
            self.revoke_family(f);
        }
    }
}
