//! The gateway to an `https` upstream, as Atlassian's is: the hop's own TLS client must trust
//! what the system trusts and nothing else, the same as the engine's sign-in client.
//!
//! A test CA is made with rcgen and offered to both clients the way an administrator would, by
//! `SSL_CERT_FILE` (rustls-platform-verifier reads it on Linux). One upstream has a certificate
//! from that CA: the engine connects to it, and a `tools/call` through the gateway arrives with
//! the injected credential. Three more are refused, and the app gets a JSON-RPC error naming the
//! server and the fault: a self-signed certificate nobody trusts, one from the trusted CA for
//! another host name, and an expired one from the trusted CA.
//!
//! One test in this file, because `SSL_CERT_FILE` is process-wide.

#[path = "../src/support.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_core::ConnectRequest;
use latchkey_gateway::{Config, Gateway};
use latchkey_oauth::SystemClock;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use support::*;

/// The `Authorization` headers the upstream saw.
type Seen = Arc<Mutex<Vec<Option<String>>>>;

async fn mcp(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> Response {
    seen.lock().unwrap().push(headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned));
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else { return StatusCode::BAD_REQUEST.into_response() };
    let Some(id) = msg.get("id").cloned() else { return StatusCode::ACCEPTED.into_response() };
    let result = match msg["method"].as_str().unwrap_or_default() {
        "initialize" => json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "tls-upstream", "version": "1"}}),
        "tools/list" => json!({"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}),
        "tools/call" => json!({"content": [{"type": "text", "text": "over tls"}], "isError": false}),
        _ => json!({}),
    };
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}

/// Serves `app` over TLS on 127.0.0.1:0 with `chain` and `key`; returns `https://127.0.0.1:PORT`.
async fn serve_tls(app: Router, chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> String {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses our certificate ends the handshake here.
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(tls), service).await;
            });
        }
    });
    format!("https://{addr}")
}

fn leaf_params() -> CertificateParams {
    leaf_for(&["127.0.0.1", "localhost"])
}

fn leaf_for(names: &[&str]) -> CertificateParams {
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "tls upstream");
    params
}

fn key_der(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

#[tokio::test]
async fn an_https_upstream_is_reached_with_the_system_trust_and_an_untrusted_one_is_refused() {
    // The test CA, trusted through SSL_CERT_FILE before any client exists.
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Latchkey test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let trust = tempfile::tempdir().unwrap();
    let bundle = trust.path().join("ca.pem");
    std::fs::write(&bundle, ca_cert.pem()).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: the only test in this binary sets it before it starts any client or thread that
    // reads the environment.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &bundle);
        std::env::remove_var("SSL_CERT_DIR");
    }
    let issuer = Issuer::new(ca_params, ca_key);

    let seen: Seen = Arc::default();
    let app = Router::new().route("/mcp", axum::routing::post(mcp)).with_state(seen.clone());
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params().signed_by(&leaf_key, &issuer).unwrap();
    let trusted = serve_tls(app.clone(), vec![leaf.der().clone()], key_der(&leaf_key)).await;
    let rogue_key = KeyPair::generate().unwrap();
    let rogue = leaf_params().self_signed(&rogue_key).unwrap();
    let untrusted = serve_tls(app.clone(), vec![rogue.der().clone()], key_der(&rogue_key)).await;
    // Two more from the trusted CA that must still be refused: one for another host, one expired.
    let other_key = KeyPair::generate().unwrap();
    let other = leaf_for(&["mcp.other.example"]).signed_by(&other_key, &issuer).unwrap();
    let wrong_name = serve_tls(app.clone(), vec![other.der().clone()], key_der(&other_key)).await;
    let old_key = KeyPair::generate().unwrap();
    let mut old_params = leaf_params();
    (old_params.not_before, old_params.not_after) = (rcgen::date_time_ymd(2020, 1, 1), rcgen::date_time_ymd(2021, 1, 1));
    let old = old_params.signed_by(&old_key, &issuer).unwrap();
    let expired = serve_tls(app, vec![old.der().clone()], key_der(&old_key)).await;

    let env = Env::new();
    let lk = engine(&env, Arc::new(HeadlessBrowser::new()), Arc::new(SystemClock));
    let report = lk
        .connect(ConnectRequest { target: format!("{trusted}/mcp"), name: Some("tls".into()), ..Default::default() })
        .await
        .expect("the engine connects over TLS with the test CA trusted");
    assert_eq!(report.server.as_deref(), Some("tls-upstream"));
    let refused =
        [(untrusted, "rogue", "certificate is not trusted"), (wrong_name, "wrong-name", "for a different address"), (expired, "expired", "has expired")];
    let mut refused_keys = Vec::new();
    for (url, name, _) in &refused {
        lk.resolve(&format!("{url}/mcp"), Some(name), None, &Default::default()).unwrap();
        refused_keys.push(lk.issue_local_key(name, "test").unwrap().1);
    }
    let (_, key) = lk.issue_local_key("tls", "test").unwrap();
    let gateway = Gateway::start(lk.clone(), env.config_dir(), Config::on_port(0)).await.expect("gateway starts");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let call = |name: &str, key: String| {
        client
            .post(format!("http://{}/mcp/{name}", gateway.addr))
            .header("x-latchkey-key", key)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "echo"}}).to_string())
            .send()
    };

    let before = seen.lock().unwrap().len();
    let resp = call("tls", key.expose().clone()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "over tls", "{v}");
    let after = seen.lock().unwrap().clone();
    assert_eq!(after.len(), before + 1, "one request reached the upstream over TLS");
    assert_eq!(after.last().unwrap(), &None, "a connection without sign-in sends no credential, and never the local key");

    // Each refusal names the server and says what is wrong with its certificate, instead of
    // calling a running server unreachable.
    for ((_, name, says), key) in refused.iter().zip(&refused_keys) {
        let resp = call(name, key.expose().clone()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["id"], 5, "{v}");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says) && message.contains("127.0.0.1") && message.contains("latchkey doctor"), "{name}: {v}");
        let status = lk.status().unwrap().into_iter().find(|c| c.name == *name).unwrap();
        assert_eq!((status.requests, status.errors), (1, 1), "counted as a failed request: {status:?}");
    }
    assert_eq!(seen.lock().unwrap().len(), before + 1, "nothing was sent to a refused server");

    gateway.shutdown(Duration::from_secs(2)).await;
    drop(env);
}
