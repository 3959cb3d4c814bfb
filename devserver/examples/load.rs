//! Load check: many concurrent stream connections, many events, no loss, in order.
//!
//! `cargo run --release -p threadtail-devserver --example load [-- --connections N --events N]`
//!
//! Starts the server in-process on a loopback port, opens N stream connections to one thread
//! (500 by default), waits until all are open, appends the events (1,000 by default) through the
//! control API in batches of 100, and checks that every connection received every event exactly
//! once and in order. Prints connections, events, elapsed time and delivered events per second.
//! It is a program, not a timed test: it exits non-zero only if an event was lost or reordered.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use threadtail_devserver::client::{request, take_blocks, Streaming};
use threadtail_devserver::{serve, Config, Scenario};

const TOKEN: &str = "load-token";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn post(addr: SocketAddr, path: &str, body: serde_json::Value) -> serde_json::Value {
    let b = body.to_string();
    let r = request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        Some(b.as_bytes()),
    )
    .await
    .expect("control request");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Reads one stream until `want` events arrived; returns their ids.
async fn consume(mut s: Streaming, want: usize) -> Vec<String> {
    let mut buf = Vec::new();
    let mut ids = Vec::with_capacity(want);
    while ids.len() < want {
        match tokio::time::timeout(Duration::from_secs(60), s.next_chunk()).await {
            Ok(Ok(Some(c))) => buf.extend_from_slice(&c),
            _ => break,
        }
        ids.extend(take_blocks(&mut buf).into_iter().filter_map(|b| b.id));
    }
    ids
}

#[tokio::main]
async fn main() {
    let connections = arg("--connections", 500);
    let events = arg("--events", 1000);
    let config = Config {
        token: TOKEN.into(),
        scenario: Scenario::Empty,
        ..Config::default()
    };
    let (addr, handle) = serve(config).await.expect("bind");
    let sid = post(addr, "/_control/sessions", json!({})).await["session_id"]
        .as_str()
        .expect("session id")
        .to_string();
    let tid = post(
        addr,
        &format!("/_control/sessions/{sid}/threads"),
        json!({"agent_name": "Load"}),
    )
    .await["id"]
        .as_str()
        .expect("thread id")
        .to_string();

    let path = format!("/v1/sessions/{sid}/threads/{tid}/stream");
    let auth = format!("Bearer {TOKEN}");
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let s = Streaming::open(addr, "GET", &path, &[("Authorization", &auth)], None)
            .await
            .expect("open stream");
        assert_eq!(s.status, 200);
        tasks.push(tokio::spawn(consume(s, events)));
    }
    while handle.state().streams.open() < connections {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let start = Instant::now();
    let mut first_id = None;
    let mut last_id = None;
    let mut sent = 0;
    while sent < events {
        let n = (events - sent).min(100);
        let r = post(
            addr,
            &format!("/_control/sessions/{sid}/threads/{tid}/events/batch"),
            json!({"count": n, "template": {"type": "agent.message", "content": [{"type": "text", "text": "負荷テスト {i}"}]}}),
        )
        .await;
        first_id = first_id.or_else(|| r["first_id"].as_str().map(String::from));
        last_id = r["last_id"].as_str().map(String::from);
        sent += n;
    }
    let mut bad = 0;
    for t in tasks {
        let ids = t.await.expect("consumer task");
        let ok = ids.len() == events
            && ids.windows(2).all(|w| w[0] < w[1])
            && ids.first() == first_id.as_ref()
            && ids.last() == last_id.as_ref();
        if !ok {
            bad += 1;
        }
    }
    let elapsed = start.elapsed();
    let delivered = (connections * events) as f64;
    println!(
        "connections: {connections}, events: {events}, elapsed: {:.3} s, delivered: {} events, {:.0} events/s, incomplete connections: {bad}",
        elapsed.as_secs_f64(),
        connections * events,
        delivered / elapsed.as_secs_f64()
    );
    handle.shutdown().await;
    if bad > 0 {
        eprintln!("FAILED: {bad} connection(s) lost or reordered events");
        std::process::exit(1);
    }
}
