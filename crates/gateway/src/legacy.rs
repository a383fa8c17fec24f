//! Legacy HTTP+SSE upstreams (MCP 2024-11-05): the server's first SSE event, `endpoint`, tells
//! the client where to POST messages. That URL is the upstream's, so it is rewritten to the
//! matching gateway path (`/mcp/<connection>/<path>?<query>`), which forwards on the same origin.
//!
//! Invariants: only `data:` lines inside an `endpoint` event change; every other byte passes
//! through in order, and a line is held back only until its newline arrives. An endpoint on
//! another origin is dropped rather than forwarded with our credential.

use bytes::Bytes;
use futures::{Stream, StreamExt};

/// Rewrites `endpoint` events of an SSE byte stream.
pub fn rewrite_endpoint_events<S>(stream: S, upstream: url::Url, prefix: String) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    S: Stream<Item = Result<Bytes, std::io::Error>>,
{
    let mut state = Rewriter { carry: Vec::new(), in_endpoint: false, upstream, prefix };
    // `None` marks the end, so the last partial line is flushed.
    let end = futures::stream::once(futures::future::ready(None::<Result<Bytes, std::io::Error>>));
    stream.map(Some).chain(end).filter_map(move |item| {
        let out = match item {
            Some(Ok(chunk)) => Some(Ok(state.feed(&chunk))),
            Some(Err(e)) => Some(Err(e)),
            None => Some(Ok(Bytes::from(std::mem::take(&mut state.carry)))),
        };
        futures::future::ready(out.filter(|r| r.as_ref().map_or(true, |b| !b.is_empty())))
    })
}

struct Rewriter {
    carry: Vec<u8>,
    in_endpoint: bool,
    upstream: url::Url,
    prefix: String,
}

impl Rewriter {
    fn feed(&mut self, chunk: &[u8]) -> Bytes {
        self.carry.extend_from_slice(chunk);
        let Some(last_nl) = self.carry.iter().rposition(|b| *b == b'\n') else { return Bytes::new() };
        let complete: Vec<u8> = self.carry.drain(..=last_nl).collect();
        let mut out = Vec::with_capacity(complete.len() + 32);
        for line in complete.split_inclusive(|b| *b == b'\n') {
            let text = String::from_utf8_lossy(line);
            let bare = text.trim_end_matches(['\r', '\n']);
            if bare.is_empty() {
                self.in_endpoint = false;
            } else if let Some(ev) = bare.strip_prefix("event:") {
                self.in_endpoint = ev.trim() == "endpoint";
            } else if self.in_endpoint
                && let Some(data) = bare.strip_prefix("data:")
            {
                let ending = &text[bare.len()..];
                match self.rewrite(data.trim()) {
                    Some(new) => out.extend_from_slice(format!("data: {new}{ending}").as_bytes()),
                    None => tracing::warn!("dropped a legacy endpoint on another origin"),
                }
                continue;
            }
            out.extend_from_slice(line);
        }
        Bytes::from(out)
    }

    fn rewrite(&self, data: &str) -> Option<String> {
        let target = self.upstream.join(data).ok()?;
        if target.origin() != self.upstream.origin() {
            return None;
        }
        let mut s = format!("{}/{}", self.prefix, target.path().trim_start_matches('/'));
        if let Some(q) = target.query() {
            s.push('?');
            s.push_str(q);
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(chunks: Vec<&'static str>) -> String {
        let s = futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c.as_bytes()))));
        let out: Vec<_> = rewrite_endpoint_events(s, url::Url::parse("https://up.example/sse").unwrap(), "/mcp/x".into()).collect().await;
        out.into_iter().map(|b| String::from_utf8(b.unwrap().to_vec()).unwrap()).collect()
    }

    #[tokio::test]
    async fn rewrites_endpoint_split_across_chunks() {
        let got = run(vec!["event: endp", "oint\ndata: /messages?session", "Id=42\n\n", "event: message\ndata: {\"a\":1}\n\n"]).await;
        assert_eq!(got, "event: endpoint\ndata: /mcp/x/messages?sessionId=42\n\nevent: message\ndata: {\"a\":1}\n\n");
    }

    #[tokio::test]
    async fn absolute_same_origin_and_foreign_origin() {
        assert_eq!(run(vec!["event: endpoint\r\ndata: https://up.example/m?s=1\r\n\r\n"]).await, "event: endpoint\r\ndata: /mcp/x/m?s=1\r\n\r\n");
        assert_eq!(run(vec!["event: endpoint\ndata: https://evil.example/m\n\n"]).await, "event: endpoint\n\n");
    }

    #[tokio::test]
    async fn other_events_and_trailing_bytes_pass_through() {
        assert_eq!(run(vec!["data: x\n", "partial"]).await, "data: x\npartial");
    }
}
