//! The client's request body on its way upstream: streamed, with a copy kept for the one replay
//! after a refresh, and for the JSON-RPC id that a gateway-made error must carry.
//!
//! Why not read it whole first: the server connection's task would then take the body from
//! hyper's channel itself, and hyper wakes that same task while it runs. Tokio reschedules a task
//! woken during its own poll as a yield, at the back of the queue and with another worker
//! notified, so every request paid two cross-thread wake-ups (measured: 3.6 context switches per
//! request instead of the bare proxy's 2.0). Handed to the upstream client, the body is taken by
//! the client connection's task instead, as in a plain proxy.
//!
//! Invariants:
//! - The bytes sent upstream and the kept copy are the same bytes, in order.
//! - The size cap holds either way: a declared `Content-Length` over it is refused before
//!   anything is sent; a body without one fails the upstream request once it passes the cap,
//!   and [`RequestBody::exceeded`] says so.
//! - The client's body is streamed at most once; a replay sends the kept copy.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::{Body, Bytes};
use bytes::BytesMut;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::{BodyExt, Empty, Full};

use crate::upstream::UpstreamBody;

/// Why the whole body is not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the cap.
    TooLarge,
    /// The client broke off its body, or it did not arrive in time.
    Broken,
}

/// The request body of one forwarded request.
#[derive(Clone)]
pub struct RequestBody {
    shared: Arc<Mutex<Shared>>,
}

struct Shared {
    /// The client's body, until it has been read to its end.
    inner: Option<Body>,
    kept: BytesMut,
    max: usize,
    state: State,
    /// Whether the client's body has been handed out to be streamed.
    streamed: bool,
    /// The upstream client's waker while it waits for the next chunk. If the rest is read here
    /// instead (an early answer, then a replay), the client must still hear that it ended, or
    /// its connection would wait forever.
    stream_waker: Option<Waker>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Done,
    Failed(BodyError),
}

impl RequestBody {
    /// A body to stream, capped at `max` bytes.
    pub fn streamed(body: Body, max: usize) -> Self {
        if http_body::Body::is_end_stream(&body) {
            return Self::whole(Bytes::new());
        }
        let shared = Shared { inner: Some(body), kept: BytesMut::new(), max, state: State::Reading, streamed: false, stream_waker: None };
        RequestBody { shared: Arc::new(Mutex::new(shared)) }
    }

    /// A body already in memory (read whole because it had to be changed first).
    pub fn whole(bytes: Bytes) -> Self {
        let shared = Shared { inner: None, kept: BytesMut::from(&bytes[..]), max: usize::MAX, state: State::Done, streamed: true, stream_waker: None };
        RequestBody { shared: Arc::new(Mutex::new(shared)) }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding the lock leaves at worst a partial copy, which `state` flags.
        self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The body to send upstream (empty when there is none). The first call streams the
    /// client's body; a later one (the replay) waits for the rest of it, up to `wait`, and sends
    /// the copy.
    pub async fn for_upstream(&self, wait: Duration) -> Result<UpstreamBody, BodyError> {
        {
            let mut s = self.lock();
            if !s.streamed {
                s.streamed = true;
                let hint = s.inner.as_ref().map(http_body::Body::size_hint).unwrap_or_default();
                return Ok(Streamed { body: self.clone(), hint }.boxed());
            }
        }
        let all = self.read_all(wait).await?;
        Ok(if all.is_empty() { Empty::new().map_err(|never| match never {}).boxed() } else { Full::new(all).map_err(|never| match never {}).boxed() })
    }

    /// The whole body: what has been streamed so far, plus the rest read now (up to `wait`).
    pub async fn read_all(&self, wait: Duration) -> Result<Bytes, BodyError> {
        if let Some(done) = self.if_done(Bytes::copy_from_slice) {
            return done;
        }
        let rest = std::future::poll_fn(|cx| {
            loop {
                match self.poll_next(cx, false) {
                    Poll::Ready(Some(Ok(_))) => continue,
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                    Poll::Ready(None) => return Poll::Ready(Ok(())),
                    Poll::Pending => return Poll::Pending,
                }
            }
        });
        match tokio::time::timeout(wait, rest).await {
            Ok(Ok(())) => Ok(Bytes::copy_from_slice(&self.lock().kept)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(BodyError::Broken),
        }
    }

    /// Whether the body went over the cap.
    pub fn exceeded(&self) -> bool {
        self.failure() == Some(BodyError::TooLarge)
    }

    /// Why the client's body failed, if it did.
    pub fn failure(&self) -> Option<BodyError> {
        match self.lock().state {
            State::Failed(e) => Some(e),
            State::Reading | State::Done => None,
        }
    }

    /// The JSON-RPC id of the request, when it is a single request and its body can be had.
    pub async fn rpc_id(&self, wait: Duration) -> Option<serde_json::Value> {
        // The usual case: the upstream has taken the whole body, so no timer and no copy.
        if let Some(done) = self.if_done(jsonrpc_id) {
            return done.ok().flatten();
        }
        let body = self.read_all(wait).await.ok()?;
        jsonrpc_id(&body)
    }

    /// `f` of the kept body when it is complete, or the failure; `None` while still reading.
    fn if_done<T>(&self, f: impl FnOnce(&[u8]) -> T) -> Option<Result<T, BodyError>> {
        let s = self.lock();
        match s.state {
            State::Done => Some(Ok(f(&s.kept))),
            State::Failed(e) => Some(Err(e)),
            State::Reading => None,
        }
    }

    /// The next chunk of the client's body, kept as it passes. `upstream`: whether the upstream
    /// client is the one asking.
    fn poll_next(&self, cx: &mut Context<'_>, upstream: bool) -> Poll<Option<Result<Bytes, BodyError>>> {
        let mut s = self.lock();
        let next = Self::poll_locked(&mut s, cx);
        if upstream {
            s.stream_waker = next.is_pending().then(|| cx.waker().clone());
        } else if next.is_ready()
            && let Some(waker) = s.stream_waker.take()
        {
            waker.wake();
        }
        next
    }

    fn poll_locked(s: &mut Shared, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        match s.state {
            State::Done => return Poll::Ready(None),
            State::Failed(e) => return Poll::Ready(Some(Err(e))),
            State::Reading => {}
        }
        let Some(inner) = s.inner.as_mut() else { return Poll::Ready(None) };
        loop {
            let frame = match Pin::new(&mut *inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => None,
                Poll::Ready(Some(Err(_))) => {
                    s.state = State::Failed(BodyError::Broken);
                    s.inner = None;
                    return Poll::Ready(Some(Err(BodyError::Broken)));
                }
                Poll::Ready(Some(Ok(frame))) => Some(frame),
            };
            let Some(frame) = frame else {
                s.state = State::Done;
                s.inner = None;
                return Poll::Ready(None);
            };
            // Trailers are not forwarded (MCP has none); only data counts.
            let Ok(data) = frame.into_data() else { continue };
            if s.kept.len() + data.len() > s.max {
                s.state = State::Failed(BodyError::TooLarge);
                s.inner = None;
                return Poll::Ready(Some(Err(BodyError::TooLarge)));
            }
            s.kept.extend_from_slice(&data);
            // With a Content-Length, hyper stops at the last byte without asking for the end.
            if s.inner.as_ref().is_some_and(http_body::Body::is_end_stream) {
                s.state = State::Done;
                s.inner = None;
            }
            return Poll::Ready(Some(Ok(data)));
        }
    }
}

/// What the upstream client polls: the client's body, chunk by chunk.
struct Streamed {
    body: RequestBody,
    /// The client's size hint, so a `Content-Length` is sent on as one.
    hint: SizeHint,
}

impl http_body::Body for Streamed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.body.poll_next(cx, true).map(|next| {
            next.map(|r| {
                r.map(Frame::data).map_err(|e| match e {
                    BodyError::TooLarge => std::io::Error::other("the request body is over the gateway's size limit"),
                    BodyError::Broken => std::io::Error::other("the client broke off its request body"),
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.body.lock().state == State::Done
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
    }
}

/// The JSON-RPC id of a request body, when it is a single request.
pub fn jsonrpc_id(body: &[u8]) -> Option<serde_json::Value> {
    if body.first() != Some(&b'{') {
        return None;
    }
    // Only the id is kept; the rest of the message is skipped, not built into a tree.
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Option<serde_json::Value>,
    }
    serde_json::from_slice::<IdOnly>(body).ok()?.id
}

#[cfg(test)]
mod tests {
    use super::*;
    const WAIT: Duration = Duration::from_secs(5);

    fn chunked(parts: &[&'static str]) -> Body {
        let chunks: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::from_static(p.as_bytes()))).collect();
        Body::from_stream(futures::stream::iter(chunks))
    }

    #[tokio::test]
    async fn streams_once_then_replays_the_same_bytes() {
        let body = RequestBody::streamed(Body::from(r#"{"jsonrpc":"2.0","id":7,"method":"x"}"#), 1024);
        let sent = body.for_upstream(WAIT).await.unwrap().collect().await.unwrap().to_bytes();
        assert_eq!(&sent[..], br#"{"jsonrpc":"2.0","id":7,"method":"x"}"#);
        let again = body.for_upstream(WAIT).await.unwrap().collect().await.unwrap().to_bytes();
        assert_eq!(sent, again, "the replay sends the kept copy");
        assert_eq!(body.rpc_id(WAIT).await, Some(serde_json::json!(7)));
    }

    #[tokio::test]
    async fn a_partly_streamed_body_is_completed_for_the_replay() {
        let body = RequestBody::streamed(chunked(&["ab", "cd", "ef"]), 1024);
        let mut upstream = body.for_upstream(WAIT).await.unwrap();
        let first = upstream.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"ab");
        // The upstream answered before taking the rest (say, 401): the rest is read for the replay.
        drop(upstream);
        assert_eq!(&body.read_all(WAIT).await.unwrap()[..], b"abcdef");
    }

    #[tokio::test]
    async fn when_the_rest_is_read_here_the_upstream_client_still_hears_the_end() {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
        let body = RequestBody::streamed(Body::from_stream(rx), 1024);
        tx.unbounded_send(Ok(Bytes::from_static(b"ab"))).unwrap();
        let upstream = body.for_upstream(WAIT).await.unwrap();
        // The upstream client takes "ab", then waits for more.
        let sending = tokio::spawn(async move { upstream.collect().await.map(|c| c.to_bytes()) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Meanwhile the rest is read here (say, for a replay), and only here.
        let here = {
            let body = body.clone();
            tokio::spawn(async move { body.read_all(WAIT).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.unbounded_send(Ok(Bytes::from_static(b"cd"))).unwrap();
        drop(tx);
        assert_eq!(&here.await.unwrap().unwrap()[..], b"abcd");
        let sent = tokio::time::timeout(WAIT, sending).await.expect("the upstream client is woken to see the end").unwrap().unwrap();
        assert_eq!(&sent[..], b"ab", "what it sent before the rest was taken here");
    }

    #[tokio::test]
    async fn the_cap_holds_without_a_content_length() {
        let body = RequestBody::streamed(chunked(&["12345", "67890"]), 8);
        let sent = body.for_upstream(WAIT).await.unwrap().collect().await;
        assert!(sent.is_err(), "the upstream request fails");
        assert!(body.exceeded());
        assert_eq!(body.read_all(WAIT).await, Err(BodyError::TooLarge));
        assert_eq!(body.rpc_id(WAIT).await, None);
    }

    #[tokio::test]
    async fn a_whole_body_keeps_its_length() {
        let body = RequestBody::whole(Bytes::from_static(b"[1,2]"));
        let sent = body.for_upstream(WAIT).await.unwrap();
        assert_eq!(http_body::Body::size_hint(&sent).exact(), Some(5));
        assert_eq!(body.rpc_id(WAIT).await, None, "a batch has no single id");
        let streamed = RequestBody::streamed(Body::from("abc"), 10).for_upstream(WAIT).await.unwrap();
        let none = RequestBody::streamed(Body::empty(), 10).for_upstream(WAIT).await.unwrap();
        assert!(http_body::Body::is_end_stream(&none), "no body is sent as an empty one");
        assert_eq!(http_body::Body::size_hint(&streamed).exact(), Some(3), "a Content-Length is kept");
    }

    #[test]
    fn rpc_ids() {
        assert_eq!(jsonrpc_id(br#"{"jsonrpc":"2.0","id":7,"method":"x"}"#), Some(serde_json::json!(7)));
        assert_eq!(jsonrpc_id(br#"[{"id":1}]"#), None);
        assert_eq!(jsonrpc_id(br#"{"jsonrpc":"2.0","method":"notifications/x"}"#), None);
    }
}
