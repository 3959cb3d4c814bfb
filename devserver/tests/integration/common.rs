//! Shared helpers: start a server, call the control API, read SSE blocks.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use threadtail_devserver::client::{self, take_blocks, Response, SseBlock, Streaming};
use threadtail_devserver::{serve, Config, Scenario, ServerHandle};

pub const TOKEN: &str = "test-token";
pub const T: Duration = Duration::from_secs(5);

pub struct Srv {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
}

pub async fn start() -> Srv {
    start_with(|_| {}).await
}

pub async fn start_with(f: impl FnOnce(&mut Config)) -> Srv {
    let mut config = Config {
        token: TOKEN.into(),
        scenario: Scenario::Empty,
        ..Config::default()
    };
    f(&mut config);
    let (addr, handle) = serve(config).await.expect("bind");
    Srv { addr, handle }
}

pub fn auth() -> (&'static str, String) {
    ("Authorization", format!("Bearer {TOKEN}"))
}

impl Srv {
    pub async fn req(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        client::request(self.addr, method, path, headers, body)
            .await
            .expect("request")
    }

    /// An API GET with the right token.
    pub async fn api(&self, path: &str) -> Response {
        let (k, v) = auth();
        self.req("GET", path, &[(k, &v)], None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        let b = body.to_string();
        self.req(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            Some(b.as_bytes()),
        )
        .await
    }

    pub async fn session(&self) -> String {
        let r = self.post("/_control/sessions", json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["session_id"].as_str().unwrap().to_string()
    }

    pub async fn thread(&self, sid: &str, agent: &str, parent: Option<&str>) -> String {
        let r = self
            .post(
                &format!("/_control/sessions/{sid}/threads"),
                json!({"agent_name": agent, "parent_thread_id": parent}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// A session with a coordinator thread.
    pub async fn session_thread(&self) -> (String, String) {
        let sid = self.session().await;
        let tid = self.thread(&sid, "Coordinator", None).await;
        (sid, tid)
    }

    pub async fn event(&self, sid: &str, tid: &str, body: Value) -> Value {
        let r = self
            .post(
                &format!("/_control/sessions/{sid}/threads/{tid}/events"),
                body,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    pub async fn message(&self, sid: &str, tid: &str, text: &str) -> String {
        let ev = self
            .event(
                sid,
                tid,
                json!({"type": "agent.message", "content": [{"type": "text", "text": text}]}),
            )
            .await;
        ev["id"].as_str().unwrap().to_string()
    }

    pub async fn batch(&self, sid: &str, tid: &str, count: usize) -> Value {
        let r = self
            .post(
                &format!("/_control/sessions/{sid}/threads/{tid}/events/batch"),
                json!({"count": count, "template": {"type": "agent.message", "content": "n={i} 日本語"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// Opens a stream with the token plus `extra` headers.
    pub async fn stream(&self, path: &str, extra: &[(&str, &str)]) -> Streaming {
        let (k, v) = auth();
        let mut headers = vec![(k, v.as_str()), ("Accept", "text/event-stream")];
        headers.extend_from_slice(extra);
        Streaming::open(self.addr, "GET", path, &headers, None)
            .await
            .expect("open stream")
    }
}

pub fn thread_stream(sid: &str, tid: &str) -> String {
    format!("/v1/sessions/{sid}/threads/{tid}/stream")
}

/// Reads SSE blocks until `n` events (blocks with an id) have arrived; panics on timeout.
pub async fn events(s: &mut Streaming, buf: &mut Vec<u8>, n: usize) -> Vec<SseBlock> {
    let mut out: Vec<SseBlock> = Vec::new();
    let deadline = tokio::time::Instant::now() + T;
    while out.iter().filter(|b| b.id.is_some()).count() < n {
        out.extend(take_blocks(buf).into_iter().filter(|b| b.id.is_some()));
        if out.len() >= n {
            break;
        }
        match tokio::time::timeout_at(deadline, s.next_chunk()).await {
            Ok(Ok(Some(c))) => buf.extend_from_slice(&c),
            other => panic!(
                "stream ended or timed out after {} events: {other:?}",
                out.len()
            ),
        }
    }
    out
}

/// Asserts that nothing (but comments) arrives within `wait`.
pub async fn no_event_within(s: &mut Streaming, buf: &mut Vec<u8>, wait: Duration) {
    let mut acc = std::mem::take(buf);
    let _ = s
        .read_until(&mut acc, wait, |b| b.windows(4).any(|w| w == b"id: "))
        .await;
    let blocks = take_blocks(&mut acc);
    assert!(
        blocks.iter().all(|b| b.id.is_none()),
        "unexpected event: {blocks:?}"
    );
    *buf = acc;
}

pub fn data(b: &SseBlock) -> Value {
    serde_json::from_str(b.data.as_deref().unwrap_or("")).expect("data is JSON")
}

pub fn assert_error(r: &Response, status: u16, kind: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let j = r.json();
    assert_eq!(j["type"], "error", "{j}");
    assert_eq!(j["error"]["type"], kind, "{j}");
    assert!(j["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(j["request_id"]
        .as_str()
        .is_some_and(|r| r.starts_with("req_")));
}
