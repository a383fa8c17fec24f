//! The floor for the gateway's figures: a one-hop reverse proxy that only forwards (hyper's
//! server and hyper-util's pooled client, bodies streamed, Nagle off), with no guard, no key
//! check, no credential and no JSON check. It is the "45 lines of hyper" the issue measured
//! as adding about 0.13 ms. It runs in this process, like the in-process gateway, so both
//! share the same runtime and cores, and their figures can be compared as a ratio.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Starts the proxy in front of `upstream` (its whole URL; the request's query is kept).
pub async fn start(upstream: &str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the bare proxy");
    let addr = listener.local_addr().expect("bare proxy address");
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new()).build(connector);
    let upstream: Uri = upstream.parse().expect("upstream URL");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let (client, upstream) = (client.clone(), upstream.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                    let client = client.clone();
                    let path = match req.uri().query() {
                        Some(q) => format!("{}?{q}", upstream.path()),
                        None => upstream.path().to_owned(),
                    };
                    let mut parts = upstream.clone().into_parts();
                    parts.path_and_query = path.parse().ok();
                    async move {
                        *req.uri_mut() = Uri::from_parts(parts).expect("proxied URI");
                        req.headers_mut().remove(hyper::header::HOST);
                        let resp: Response<BoxBody<Bytes, hyper::Error>> = match client.request(req).await {
                            Ok(r) => r.map(BodyExt::boxed),
                            Err(_) => Response::builder()
                                .status(StatusCode::BAD_GATEWAY)
                                .body(Empty::new().map_err(|never: Infallible| match never {}).boxed())
                                .expect("502"),
                        };
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    addr
}
