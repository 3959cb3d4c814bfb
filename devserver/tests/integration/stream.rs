//! Thread and session streams: replay, live, resume, filters, tail mode, heartbeats, lag.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn replays_history_then_streams_live() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(srv.message(&sid, &tid, &format!("履歴 {i}")).await);
    }
    let mut s = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.header("content-type"), Some("text/event-stream"));
    assert_eq!(s.header("cache-control"), Some("no-cache"));
    assert_eq!(s.header("x-accel-buffering"), Some("no"));
    let mut buf = Vec::new();
    let history = events(&mut s, &mut buf, 3).await;
    for i in 0..2 {
        ids.push(srv.message(&sid, &tid, &format!("live {i}")).await);
    }
    let live = events(&mut s, &mut buf, 2).await;
    let all: Vec<_> = history.iter().chain(&live).collect();
    assert_eq!(
        all.iter()
            .map(|b| b.id.clone().unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    for b in all {
        let d = data(b);
        assert_eq!(d["id"].as_str(), b.id.as_deref());
        assert_eq!(d["type"].as_str(), b.event.as_deref());
        assert_eq!(d["session_thread_id"], tid.as_str());
        assert_eq!(d["session_id"], sid.as_str());
        assert_eq!(d["schema_version"], "1.0");
        assert!(d["created_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(data(&history[0])["content"][0]["text"], "履歴 0");
    // Ids are evt_ + 32 hex and increase.
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(ids.iter().all(|i| i.len() == 36 && i.starts_with("evt_")));
}

#[tokio::test]
async fn only_the_threads_own_events() {
    let srv = start().await;
    let (sid, coord) = srv.session_thread().await;
    let child = srv.thread(&sid, "Research Agent", Some(&coord)).await;
    srv.message(&sid, &coord, "coordinator").await;
    let mut s = srv.stream(&thread_stream(&sid, &child), &[]).await;
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 1).await;
    let created = data(&got[0]);
    assert_eq!(created["type"], "session.thread_created");
    assert_eq!(created["session_thread_id"], child.as_str());
    assert_eq!(created["parent_thread_id"], coord.as_str());
    assert_eq!(created["agent_name"], "Research Agent");
    assert_eq!(created["role"], "child");
    srv.message(&sid, &coord, "not for the child").await;
    let mine = srv.message(&sid, &child, "for the child").await;
    let got = events(&mut s, &mut buf, 1).await;
    assert_eq!(got[0].id.as_deref(), Some(mine.as_str()));
}

#[tokio::test]
async fn resumes_strictly_after_last_event_id() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(srv.message(&sid, &tid, &format!("m{i}")).await);
    }
    let mut s = srv
        .stream(&thread_stream(&sid, &tid), &[("Last-Event-ID", &ids[1])])
        .await;
    assert_eq!(s.status, 200);
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 3).await;
    let got: Vec<_> = got.into_iter().map(|b| b.id.unwrap()).collect();
    assert_eq!(got, ids[2..]);
    let live = srv.message(&sid, &tid, "live").await;
    assert_eq!(
        events(&mut s, &mut buf, 1).await[0].id.as_deref(),
        Some(live.as_str())
    );

    // Resuming at the newest event gives live events only.
    let mut s = srv
        .stream(&thread_stream(&sid, &tid), &[("Last-Event-ID", &live)])
        .await;
    let mut buf = Vec::new();
    no_event_within(&mut s, &mut buf, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn resume_in_a_5000_event_history() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let b = srv.batch(&sid, &tid, 5000).await;
    assert_eq!(b["count"], 5000);
    let list = srv
        .api(&format!(
            "/v1/sessions/{sid}/threads/{tid}/events?limit=1000&page="
        ))
        .await
        .json();
    let id_1000 = list["data"][999]["id"].as_str().unwrap().to_string();
    let mut s = srv
        .stream(&thread_stream(&sid, &tid), &[("Last-Event-ID", &id_1000)])
        .await;
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 4000).await;
    assert_eq!(got.len(), 4000);
    assert!(got.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(data(&got[0])["content"], "n=1000 日本語");
    assert_eq!(got.last().unwrap().id.as_deref(), b["last_id"].as_str());
}

#[tokio::test]
async fn foreign_or_unknown_last_event_id_is_400() {
    let srv = start().await;
    let (sid, a) = srv.session_thread().await;
    let b = srv.thread(&sid, "Writer Agent", Some(&a)).await;
    let foreign = srv.message(&sid, &b, "on b").await;
    let (k, v) = auth();
    for bad in [
        foreign.as_str(),
        "evt_ffffffffffffffffffffffffffffffff",
        "nonsense",
    ] {
        let r = srv
            .req(
                "GET",
                &thread_stream(&sid, &a),
                &[(k, &v), ("Last-Event-ID", bad)],
                None,
            )
            .await;
        assert_error(&r, 400, "invalid_request_error");
    }
    // The session stream accepts any event of the session, but not of another session.
    let ok = srv
        .stream(
            &format!("/v1/sessions/{sid}/events/stream"),
            &[("Last-Event-ID", &foreign)],
        )
        .await;
    assert_eq!(ok.status, 200);
    let (sid2, t2) = srv.session_thread().await;
    let other = srv.message(&sid2, &t2, "elsewhere").await;
    let r = srv
        .req(
            "GET",
            &format!("/v1/sessions/{sid}/events/stream"),
            &[(k, &v), ("Last-Event-ID", &other)],
            None,
        )
        .await;
    assert_error(&r, 400, "invalid_request_error");
}

#[tokio::test]
async fn filters_by_type_in_both_forms() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    for t in ["a.one", "b.two", "c.three", "d.four"] {
        srv.event(&sid, &tid, json!({"type": t})).await;
    }
    let path = format!(
        "{}?type=a.one,b.two&types[]=c.three",
        thread_stream(&sid, &tid)
    );
    let mut s = srv.stream(&path, &[]).await;
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 3).await;
    let kinds: Vec<_> = got.iter().map(|b| b.event.clone().unwrap()).collect();
    assert_eq!(kinds, ["a.one", "b.two", "c.three"]);
    srv.event(&sid, &tid, json!({"type": "d.four"})).await;
    srv.event(&sid, &tid, json!({"type": "b.two"})).await;
    let got = events(&mut s, &mut buf, 1).await;
    assert_eq!(got[0].event.as_deref(), Some("b.two"));

    // Percent-encoded brackets, array form only.
    let path = format!("{}?types%5B%5D=d.four", thread_stream(&sid, &tid));
    let mut s = srv.stream(&path, &[]).await;
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 2).await;
    assert!(got.iter().all(|b| b.event.as_deref() == Some("d.four")));
}

#[tokio::test]
async fn session_stream_carries_every_thread() {
    let srv = start_with(|c| c.prefixes = vec!["/api/v1/cloud".into()]).await;
    let (sid, coord) = srv.session_thread().await;
    let child = srv.thread(&sid, "Research Agent", Some(&coord)).await;
    srv.message(&sid, &coord, "one").await;
    let mut s = srv
        .stream(&format!("/api/v1/cloud/sessions/{sid}/events/stream"), &[])
        .await;
    assert_eq!(s.status, 200);
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 2).await; // thread_created + "one"
    assert_eq!(data(&got[0])["session_thread_id"], child.as_str());
    assert_eq!(data(&got[1])["session_thread_id"], coord.as_str());
    srv.message(&sid, &child, "two").await;
    let got = events(&mut s, &mut buf, 1).await;
    assert_eq!(data(&got[0])["session_thread_id"], child.as_str());
}

#[tokio::test]
async fn tail_mode_sends_live_only_unless_resuming() {
    let srv = start_with(|c| c.history = threadtail_devserver::HistoryMode::Tail).await;
    let (sid, tid) = srv.session_thread().await;
    let first = srv.message(&sid, &tid, "old 1").await;
    let second = srv.message(&sid, &tid, "old 2").await;
    let mut s = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    let mut buf = Vec::new();
    no_event_within(&mut s, &mut buf, Duration::from_millis(200)).await;
    let live = srv.message(&sid, &tid, "new").await;
    assert_eq!(
        events(&mut s, &mut buf, 1).await[0].id.as_deref(),
        Some(live.as_str())
    );

    let mut s = srv
        .stream(&thread_stream(&sid, &tid), &[("Last-Event-ID", &first)])
        .await;
    let mut buf = Vec::new();
    let got: Vec<_> = events(&mut s, &mut buf, 2)
        .await
        .into_iter()
        .map(|b| b.id.unwrap())
        .collect();
    assert_eq!(got, [second, live]);
}

#[tokio::test]
async fn heartbeats_at_the_keepalive_interval() {
    let srv = start_with(|c| c.keepalive = Duration::from_millis(100)).await;
    let (sid, tid) = srv.session_thread().await;
    let mut s = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    let mut acc = Vec::new();
    let seen = s
        .read_until(&mut acc, Duration::from_secs(3), |b| {
            b.windows(13).filter(|w| *w == b": heartbeat\n\n").count() >= 2
        })
        .await
        .unwrap();
    assert!(seen, "{:?}", String::from_utf8_lossy(&acc));
}

#[tokio::test]
async fn no_gap_no_duplicate_while_events_are_appended() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let state = srv.handle.state().clone();
    let (s2, t2) = (sid.clone(), tid.clone());
    let writer = tokio::spawn(async move {
        for i in 0..400 {
            let ev = threadtail_devserver::store::NewEvent::from_value(
                json!({"type": "agent.message", "content": format!("{i}")}),
            )
            .unwrap();
            state.store.append(&s2, &t2, ev).unwrap();
            if i % 20 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut s = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    writer.await.unwrap();
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 400).await;
    let texts: Vec<String> = got
        .iter()
        .map(|b| data(b)["content"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = (0..400).map(|i| i.to_string()).collect();
    assert_eq!(texts, want);
    no_event_within(&mut s, &mut buf, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_lagging_stream_loses_nothing() {
    // A broadcast of 4 events: any stream lags during a 3,000-event batch.
    let srv = start_with(|c| c.broadcast_capacity = 4).await;
    let (sid, tid) = srv.session_thread().await;
    let mut s = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    let mut buf = Vec::new();
    no_event_within(&mut s, &mut buf, Duration::from_millis(50)).await;
    srv.batch(&sid, &tid, 3000).await;
    let got = events(&mut s, &mut buf, 3000).await;
    for (i, b) in got.iter().enumerate() {
        assert_eq!(data(b)["content"], format!("n={i} 日本語"));
    }
    srv.message(&sid, &tid, "after").await;
    assert_eq!(
        data(&events(&mut s, &mut buf, 1).await[0])["content"][0]["text"],
        "after"
    );
}

#[tokio::test]
async fn disconnect_closes_every_stream() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let mut a = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    let mut b = srv
        .stream(&format!("/v1/sessions/{sid}/events/stream"), &[])
        .await;
    // Let both stream tasks start.
    let mut buf = Vec::new();
    no_event_within(&mut a, &mut buf, Duration::from_millis(50)).await;
    let r = srv.post("/_control/disconnect", json!({})).await;
    assert_eq!(r.json(), json!({"closed": 2}));
    a.read_to_end(T).await.unwrap();
    b.read_to_end(T).await.unwrap();
    assert!(a.is_done() && b.is_done());
}

#[tokio::test]
async fn stream_errors() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let path = thread_stream(&sid, &tid);
    assert_error(
        &srv.req("GET", &path, &[], None).await,
        401,
        "authentication_error",
    );
    assert_error(
        &srv.req("GET", &path, &[("Authorization", "Bearer wrong")], None)
            .await,
        401,
        "authentication_error",
    );
    let r = srv.api(&thread_stream(&sid, "sthr_x")).await;
    assert_error(&r, 404, "not_found_error");
    assert_eq!(
        r.json()["error"]["message"],
        "Session thread 'sthr_x' was not found."
    );
    assert_error(
        &srv.api(&thread_stream("sess_nope", &tid)).await,
        404,
        "not_found_error",
    );
    assert_error(
        &srv.api("/v1/sessions/sess_nope/events/stream").await,
        404,
        "not_found_error",
    );
    // x-api-key works too, and session ids need no particular prefix.
    let sesn = srv
        .post("/_control/sessions", json!({"session_id": "sesn_abc"}))
        .await;
    assert_eq!(sesn.json()["session_id"], "sesn_abc");
    let t = srv.thread("sesn_abc", "Coordinator", None).await;
    let s = threadtail_devserver::client::Streaming::open(
        srv.addr,
        "GET",
        &thread_stream("sesn_abc", &t),
        &[("x-api-key", TOKEN)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(s.status, 200);
}
