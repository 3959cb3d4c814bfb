//! Faults on the list routes, armed through `/_control/list-faults`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

async fn arm(srv: &Srv, spec: Value) {
    let r = srv.post("/_control/list-faults", spec.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"armed": spec["count"]}));
}

async fn armed(srv: &Srv) -> Value {
    let r = srv.req("GET", "/_control/list-faults", &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// A session with a coordinator, two children and five messages on the coordinator; returns
/// the thread list path and the coordinator's event list path.
async fn setup(srv: &Srv) -> (String, String) {
    let (sid, coord) = srv.session_thread().await;
    srv.thread(&sid, "Research Agent", Some(&coord)).await;
    srv.thread(&sid, "Writer Agent", Some(&coord)).await;
    for i in 0..5 {
        srv.message(&sid, &coord, &format!("m{i}")).await;
    }
    (
        format!("/v1/sessions/{sid}/threads"),
        format!("/v1/sessions/{sid}/threads/{coord}/events"),
    )
}

#[tokio::test]
async fn status_answers_a_typed_error_with_retry_after() {
    let srv = start().await;
    let (threads, events) = setup(&srv).await;
    arm(&srv, json!({"count": 1, "status": 503, "retry_after": 7})).await;
    let r = srv.api(&threads).await;
    assert_error(&r, 503, "api_error");
    assert_eq!(r.header("retry-after"), Some("7"));
    assert_eq!(
        r.json()["error"]["message"],
        "Injected list fault: HTTP 503."
    );
    // Only one request was armed.
    let r = srv.api(&threads).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 3);

    // The event list, without Retry-After.
    arm(&srv, json!({"count": 1, "status": 429})).await;
    let r = srv.api(&format!("{events}?limit=2")).await;
    assert_error(&r, 429, "rate_limit_error");
    assert_eq!(r.header("retry-after"), None);
    let r = srv.api(&format!("{events}?limit=2")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn delay_ms_delays_the_answer() {
    let srv = start().await;
    let (threads, events) = setup(&srv).await;
    let normal = srv.api(&events).await.json();

    arm(&srv, json!({"count": 2, "delay_ms": 400})).await;
    let t = Instant::now();
    let r = srv.api(&events).await;
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), normal, "a delayed page is the normal page");
    let t = Instant::now();
    let r = srv.api(&threads).await;
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(r.status, 200);
    // The count ran out: no delay any more.
    let t = Instant::now();
    assert_eq!(srv.api(&threads).await.status, 200);
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );

    // With a status: the error comes after the delay.
    arm(&srv, json!({"count": 1, "delay_ms": 250, "status": 500})).await;
    let t = Instant::now();
    let r = srv.api(&threads).await;
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    assert_error(&r, 500, "api_error");
}

#[tokio::test]
async fn repeat_cursor_sends_the_requested_cursor_back() {
    let srv = start().await;
    let (threads, events) = setup(&srv).await;

    // Threads, first page: next_page is the first page's own cursor.
    let normal = srv.api(&format!("{threads}?limit=1")).await.json();
    assert_eq!(normal["next_page"], "thrpg_0000000000000001");
    arm(&srv, json!({"count": 1, "repeat_cursor": true})).await;
    let j = srv.api(&format!("{threads}?limit=1")).await.json();
    assert_eq!(j["data"], normal["data"]);
    assert_eq!(j["next_page"], "thrpg_0000000000000000");
    assert_eq!(j["has_more"], true);
    // ... which asks for the same first page again.
    let again = srv
        .api(&format!("{threads}?limit=1&page=thrpg_0000000000000000"))
        .await
        .json();
    assert_eq!(again, normal);

    // Events: a client following next_page loops on the same page while armed.
    let first = srv.api(&format!("{events}?limit=2")).await.json();
    let cursor = first["next_page"].as_str().unwrap().to_string();
    let page2 = srv
        .api(&format!("{events}?limit=2&page={cursor}"))
        .await
        .json();
    assert_eq!(page2["has_more"], true);
    arm(&srv, json!({"count": 3, "repeat_cursor": true})).await;
    let mut page = cursor.clone();
    for _ in 0..3 {
        let j = srv
            .api(&format!("{events}?limit=2&page={page}"))
            .await
            .json();
        assert_eq!(j["data"], page2["data"]);
        assert_eq!(j["first_id"], page2["first_id"]);
        assert_eq!(j["next_page"], cursor.as_str());
        page = j["next_page"].as_str().unwrap().to_string();
    }
    // The count ran out: the normal next page.
    let j = srv
        .api(&format!("{events}?limit=2&page={page}"))
        .await
        .json();
    assert_eq!(j, page2);

    // The last page (normally has_more false) points back at itself.
    let last_cursor = page2["next_page"].as_str().unwrap().to_string();
    let last = srv
        .api(&format!("{events}?limit=2&page={last_cursor}"))
        .await
        .json();
    assert_eq!(
        (last["has_more"].clone(), last["next_page"].clone()),
        (json!(false), json!(null))
    );
    arm(&srv, json!({"count": 1, "repeat_cursor": true})).await;
    let j = srv
        .api(&format!("{events}?limit=2&page={last_cursor}"))
        .await
        .json();
    assert_eq!(j["data"], last["data"]);
    assert_eq!(j["next_page"], last_cursor.as_str());
    assert_eq!(j["has_more"], true);

    // Descending, no page given: the first page's cursor in that order.
    let normal = srv
        .api(&format!("{events}?limit=2&order=desc"))
        .await
        .json();
    arm(&srv, json!({"count": 1, "repeat_cursor": true})).await;
    let j = srv
        .api(&format!("{events}?limit=2&order=desc"))
        .await
        .json();
    assert_eq!(j["data"], normal["data"]);
    assert_eq!(j["next_page"], "evtpg_ffffffffffffffff");
    let again = srv
        .api(&format!(
            "{events}?limit=2&order=desc&page=evtpg_ffffffffffffffff"
        ))
        .await
        .json();
    assert_eq!(again, normal);
    let normal = srv.api(&format!("{events}?limit=2")).await.json();
    arm(&srv, json!({"count": 1, "repeat_cursor": true})).await;
    let j = srv.api(&format!("{events}?limit=2")).await.json();
    assert_eq!(j["next_page"], "evtpg_0000000000000000");
    let again = srv
        .api(&format!("{events}?limit=2&page=evtpg_0000000000000000"))
        .await
        .json();
    assert_eq!(again, normal);
}

#[tokio::test]
async fn the_count_runs_out_across_both_list_routes() {
    let srv = start().await;
    let (threads, events) = setup(&srv).await;
    assert_eq!(armed(&srv).await, json!({"armed": 0, "faults": null}));
    arm(&srv, json!({"count": 3, "status": 502})).await;
    assert_eq!(
        armed(&srv).await,
        json!({"armed": 3, "faults": {"count": 3, "status": 502}})
    );

    // Requests refused before validation passed do not count; nor do streams.
    let r = srv.req("GET", &threads, &[], None).await;
    assert_error(&r, 401, "authentication_error");
    assert_error(
        &srv.api("/v1/sessions/sess_none/threads").await,
        404,
        "not_found_error",
    );
    assert_error(
        &srv.api(&format!("{events}?limit=0")).await,
        400,
        "invalid_request_error",
    );
    let stream = events.replace("/events", "/stream");
    let s = srv.stream(&stream, &[]).await;
    assert_eq!(s.status, 200);
    drop(s);
    assert_eq!(armed(&srv).await["armed"], 3);

    assert_error(&srv.api(&threads).await, 502, "api_error");
    assert_error(&srv.api(&events).await, 502, "api_error");
    assert_eq!(armed(&srv).await["armed"], 1);
    assert_error(&srv.api(&threads).await, 502, "api_error");
    assert_eq!(armed(&srv).await, json!({"armed": 0, "faults": null}));
    assert_eq!(srv.api(&threads).await.status, 200);
    assert_eq!(srv.api(&events).await.status, 200);

    // DELETE disarms; so does reset.
    arm(&srv, json!({"count": 5, "status": 500})).await;
    let r = srv.req("DELETE", "/_control/list-faults", &[], None).await;
    assert_eq!(r.json(), json!({"armed": 0}));
    assert_eq!(srv.api(&threads).await.status, 200);
    arm(&srv, json!({"count": 5, "status": 500})).await;
    srv.post("/_control/reset", json!({})).await;
    assert_eq!(armed(&srv).await["armed"], 0);
    // Stream faults stay apart: arming them leaves the lists alone.
    let (threads, _) = setup(&srv).await;
    let r = srv
        .post("/_control/faults", json!({"count": 1, "status": 503}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(srv.api(&threads).await.status, 200);
    assert_eq!(armed(&srv).await["armed"], 0);
}

#[tokio::test]
async fn bad_list_fault_specs_are_400() {
    let srv = start().await;
    for body in [
        json!({"status": 503}),
        json!({"count": 1, "status": 200}),
        json!({"count": 1, "status": 600}),
        json!({"count": 1, "retry_after": 1}),
        json!({"count": 1, "delay_ms": 600_001}),
        json!({"count": 1, "close_after_bytes": 3}),
        json!({"count": 1, "repeat_cursor": "yes"}),
    ] {
        let r = srv.post("/_control/list-faults", body.clone()).await;
        assert_error(&r, 400, "invalid_request_error");
        assert_eq!(armed(&srv).await["armed"], 0, "{body}");
    }
    // count 0 disarms.
    arm(&srv, json!({"count": 2, "delay_ms": 1})).await;
    arm(&srv, json!({"count": 0, "delay_ms": 1})).await;
    assert_eq!(armed(&srv).await, json!({"armed": 0, "faults": null}));
}
