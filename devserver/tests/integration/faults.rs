//! Fault injection on stream connections.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

/// A session with three multi-byte events; returns the stream path and the full body bytes.
async fn setup(srv: &Srv) -> (String, Vec<u8>) {
    let (sid, tid) = srv.session_thread().await;
    for i in 0..3 {
        srv.message(&sid, &tid, &format!("日本語のメッセージ {i}"))
            .await;
    }
    let path = thread_stream(&sid, &tid);
    let mut s = srv.stream(&path, &[]).await;
    let mut full = Vec::new();
    s.read_until(&mut full, T, |b| {
        b.windows(2).filter(|w| *w == b"\n\n").count() == 3
    })
    .await
    .unwrap();
    (path, full)
}

async fn arm(srv: &Srv, spec: serde_json::Value) {
    let r = srv.post("/_control/faults", spec.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["armed"], spec["count"]);
}

#[tokio::test]
async fn close_after_bytes_cuts_exactly() {
    let srv = start().await;
    let (path, full) = setup(&srv).await;
    // Cut inside a multi-byte character of the second event.
    let second = full.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    let k = second + full[second..].iter().position(|b| *b >= 0x80).unwrap() + 1;
    arm(&srv, json!({"count": 1, "close_after_bytes": k})).await;
    let mut s = srv.stream(&path, &[]).await;
    let body = s.read_to_end(T).await.unwrap();
    assert!(s.is_done());
    assert_eq!(body, full[..k]);
    // Only one connection was armed.
    let mut s = srv.stream(&path, &[]).await;
    let mut acc = Vec::new();
    s.read_until(&mut acc, T, |b| b.len() >= full.len())
        .await
        .unwrap();
    assert_eq!(acc, full);
}

#[tokio::test]
async fn abort_drops_the_connection() {
    let srv = start().await;
    let (path, _) = setup(&srv).await;
    arm(
        &srv,
        json!({"count": 1, "close_after_bytes": 10, "abort": true}),
    )
    .await;
    let mut s = srv.stream(&path, &[]).await;
    let mut acc = Vec::new();
    let r = s.read_until(&mut acc, T, |_| false).await;
    assert!(r.is_err(), "expected an unterminated chunked body");
    assert_eq!(acc.len(), 10);
}

#[tokio::test]
async fn chunk_bytes_and_write_delay() {
    let srv = start().await;
    let (path, full) = setup(&srv).await;
    arm(
        &srv,
        json!({"count": 1, "chunk_bytes": 7, "write_delay_ms": 2}),
    )
    .await;
    let mut s = srv.stream(&path, &[]).await;
    let mut chunks = Vec::new();
    let mut total = 0;
    while total < full.len() {
        let c = tokio::time::timeout(T, s.next_chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        total += c.len();
        chunks.push(c);
    }
    assert!(chunks.iter().all(|c| c.len() <= 7));
    assert_eq!(chunks.concat(), full);

    arm(
        &srv,
        json!({"count": 1, "chunk_bytes": full.len().div_ceil(4), "write_delay_ms": 100}),
    )
    .await;
    let t0 = Instant::now();
    let mut s = srv.stream(&path, &[]).await;
    let mut acc = Vec::new();
    s.read_until(&mut acc, T, |b| b.len() >= full.len())
        .await
        .unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(390),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(acc, full);
}

#[tokio::test]
async fn status_faults_replace_the_response() {
    let srv = start().await;
    let (path, _) = setup(&srv).await;
    let (k, v) = auth();
    let h = [(k, v.as_str())];

    arm(&srv, json!({"count": 1, "status": 204})).await;
    let r = srv.req("GET", &path, &h, None).await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());

    arm(&srv, json!({"count": 2, "status": 429, "retry_after": 3})).await;
    for _ in 0..2 {
        let r = srv.req("GET", &path, &h, None).await;
        assert_error(&r, 429, "rate_limit_error");
        assert_eq!(r.header("retry-after"), Some("3"));
    }
    arm(&srv, json!({"count": 1, "status": 503})).await;
    // A refused request does not count.
    assert_eq!(srv.req("GET", &path, &[], None).await.status, 401);
    let r = srv.req("GET", &path, &h, None).await;
    assert_error(&r, 503, "api_error");
    assert_eq!(r.header("retry-after"), None);
    // Disarmed after use.
    let s = srv.stream(&path, &[]).await;
    assert_eq!(s.status, 200);

    arm(&srv, json!({"count": 5, "status": 500})).await;
    let r = srv.req("DELETE", "/_control/faults", &[], None).await;
    assert_eq!(r.json(), json!({"armed": 0}));
    assert_eq!(srv.stream(&path, &[]).await.status, 200);
}

#[tokio::test]
async fn content_type_retry_and_stall() {
    let srv = start().await;
    let (path, full) = setup(&srv).await;

    arm(&srv, json!({"count": 1, "content_type": "text/plain"})).await;
    let s = srv.stream(&path, &[]).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.header("content-type"), Some("text/plain"));

    arm(&srv, json!({"count": 1, "retry_ms": 1500})).await;
    let mut s = srv.stream(&path, &[]).await;
    let mut acc = Vec::new();
    s.read_until(&mut acc, T, |b| b.len() >= full.len() + 13)
        .await
        .unwrap();
    assert!(acc.starts_with(b"retry: 1500\n\n"));
    assert_eq!(acc[13..], full);

    arm(&srv, json!({"count": 1, "stall_ms": 400})).await;
    let t0 = Instant::now();
    let mut s = srv.stream(&path, &[]).await;
    assert_eq!(s.status, 200);
    assert!(
        t0.elapsed() < Duration::from_millis(300),
        "headers came late"
    );
    let first = s.next_chunk().await.unwrap().unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(390));
    assert!(full.starts_with(&first));
}

#[tokio::test]
async fn bad_fault_specs_are_400() {
    let srv = start().await;
    for spec in [
        json!({}),
        json!({"count": 1, "chunk_bytes": 0}),
        json!({"count": 1, "bogus": 1}),
        json!({"count": 1, "status": 42}),
    ] {
        assert_error(
            &srv.post("/_control/faults", spec).await,
            400,
            "invalid_request_error",
        );
    }
}
