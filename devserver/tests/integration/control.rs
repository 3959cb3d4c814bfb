//! Control API, request log, CORS, static files, the demo scenario.

use std::time::Duration;

use serde_json::json;
use threadtail_devserver::client::take_blocks;

use crate::common::*;

#[tokio::test]
async fn records_api_requests() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let path = thread_stream(&sid, &tid);
    let (k, v) = auth();
    srv.req(
        "GET",
        &format!("{path}?type=a,b"),
        &[(k, &v), ("Last-Event-ID", "evt_x"), ("X-Custom", "1")],
        None,
    )
    .await;
    srv.api(&format!("/v1/sessions/{sid}/threads")).await;
    srv.req("OPTIONS", &path, &[("Origin", "http://x")], None)
        .await;
    let log = srv.req("GET", "/_control/requests", &[], None).await.json();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["method"], "GET");
    assert_eq!(log[0]["path"], path.as_str());
    assert_eq!(log[0]["query"], "type=a,b");
    assert_eq!(
        log[0]["headers"]["authorization"],
        format!("Bearer {TOKEN}")
    );
    assert_eq!(log[0]["headers"]["last-event-id"], "evt_x");
    assert_eq!(log[0]["headers"]["x-custom"], "1");
    assert!(log[0]["at"].is_string());
    assert_eq!(log[1]["query"], "");
    srv.req("DELETE", "/_control/requests", &[], None).await;
    let log = srv.req("GET", "/_control/requests", &[], None).await.json();
    assert_eq!(log, json!([]));
}

#[tokio::test]
async fn cors_everywhere() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let path = thread_stream(&sid, &tid);
    let origin = "http://127.0.0.1:9999";
    let r = srv
        .req(
            "OPTIONS",
            &path,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "GET"),
                (
                    "Access-Control-Request-Headers",
                    "authorization,last-event-id,x-trace",
                ),
                ("Access-Control-Request-Private-Network", "true"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("authorization,last-event-id,x-trace")
    );
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, POST, DELETE, OPTIONS")
    );
    assert!(r.header("access-control-max-age").is_some());
    assert_eq!(
        r.header("access-control-allow-private-network"),
        Some("true")
    );

    let r = srv
        .req(
            "OPTIONS",
            &path,
            &[("Access-Control-Request-Method", "GET")],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Last-Event-ID"));
    assert_eq!(r.header("access-control-allow-private-network"), None);

    // Errors and streams carry the headers too.
    let r = srv.req("GET", &path, &[("Origin", origin)], None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("Retry-After, Content-Type, Request-Id")
    );
    let s = srv.stream(&path, &[("Origin", origin)]).await;
    assert_eq!(s.header("access-control-allow-origin"), Some(origin));
}

#[tokio::test]
async fn control_routes_and_errors() {
    let srv = start().await;
    let r = srv
        .post("/_control/sessions", json!({"session_id": "sess_fixed"}))
        .await;
    assert_eq!(r.json(), json!({"session_id": "sess_fixed"}));
    let coord = srv.thread("sess_fixed", "Coordinator", None).await;
    let r = srv
        .post(
            "/_control/sessions/sess_fixed/threads",
            json!({"agent_name": "Writer Agent", "parent_thread_id": coord, "thread_id": "sthr_mine"}),
        )
        .await;
    let t = r.json();
    assert_eq!(t["id"], "sthr_mine");
    assert_eq!(t["role"], "child");
    assert_eq!(t["parent_thread_id"], coord.as_str());

    let list = srv.req("GET", "/_control/sessions", &[], None).await.json();
    assert_eq!(list["sessions"][0]["session_id"], "sess_fixed");
    assert_eq!(list["sessions"][0]["threads"], json!([coord, "sthr_mine"]));

    // Unknown fields are kept; the server assigns the envelope.
    let ev = srv
        .event(
            "sess_fixed",
            "sthr_mine",
            json!({"type": "x.custom", "extra": {"n": 1}, "id": "ignored", "processed_at": null}),
        )
        .await;
    assert_eq!(ev["extra"], json!({"n": 1}));
    assert!(ev["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(ev["processed_at"], json!(null));
    assert_eq!(ev["session_thread_id"], "sthr_mine");

    // _raw_data goes out verbatim as the SSE data.
    srv.event(
        "sess_fixed",
        "sthr_mine",
        json!({"type": "agent.message", "_raw_data": "{not json"}),
    )
    .await;
    let mut s = srv
        .stream(&thread_stream("sess_fixed", "sthr_mine"), &[])
        .await;
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 3).await;
    assert_eq!(got[2].data.as_deref(), Some("{not json"));

    let r = srv
        .post(
            "/_control/sessions/sess_fixed/threads/sthr_mine/events/batch",
            json!({"events": [{"type": "a"}, {"type": "b"}]}),
        )
        .await;
    assert_eq!(r.json()["count"], 2);

    assert_error(
        &srv.post(
            "/_control/sessions/nope/threads",
            json!({"agent_name": "A"}),
        )
        .await,
        404,
        "not_found_error",
    );
    assert_error(
        &srv.post(
            "/_control/sessions/sess_fixed/threads",
            json!({"agent_name": "A", "parent_thread_id": "sthr_zz"}),
        )
        .await,
        400,
        "invalid_request_error",
    );
    assert_error(
        &srv.post(
            "/_control/sessions/sess_fixed/threads",
            json!({"thread_id": "sthr_mine"}),
        )
        .await,
        409,
        "conflict_error",
    );
    assert_error(
        &srv.post(
            "/_control/sessions/sess_fixed/threads/sthr_mine/events",
            json!({"no": "type"}),
        )
        .await,
        400,
        "invalid_request_error",
    );
    assert_error(
        &srv.post(
            "/_control/sessions/sess_fixed/threads/sthr_x/events",
            json!({"type": "a"}),
        )
        .await,
        404,
        "not_found_error",
    );
    let r = srv
        .req("POST", "/_control/sessions", &[], Some(b"{bad"))
        .await;
    assert_error(&r, 400, "invalid_request_error");

    let r = srv.post("/_control/reset", json!({})).await;
    assert_eq!(r.json()["reset"], true);
    assert_eq!(
        srv.req("GET", "/_control/sessions", &[], None).await.json(),
        json!({"sessions": []})
    );
}

#[tokio::test]
async fn no_control_removes_the_control_api() {
    let srv = start_with(|c| c.control = false).await;
    let r = srv.post("/_control/sessions", json!({})).await;
    assert_error(&r, 404, "not_found_error");
}

#[tokio::test]
async fn serves_static_files() {
    let dir = std::env::temp_dir().join(format!("ttds-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(dir.join("pkg/a.wasm"), b"\0asm").unwrap();
    std::fs::write(dir.join("pkg/a.js"), "export {}").unwrap();
    std::fs::write(dir.join("pkg/b.mjs"), "export {}").unwrap();
    std::fs::write(dir.join("pkg/index.html"), "pkg").unwrap();
    let d = dir.clone();
    let srv = start_with(move |c| c.static_dir = Some(d)).await;
    let r = srv.req("GET", "/", &[], None).await;
    assert_eq!((r.status, r.text().as_str()), (200, "<h1>hi</h1>"));
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let r = srv.req("GET", "/pkg/a.wasm", &[], None).await;
    assert_eq!(r.header("content-type"), Some("application/wasm"));
    assert_eq!(r.body, b"\0asm");
    for p in ["/pkg/a.js", "/pkg/b.mjs"] {
        let r = srv.req("GET", p, &[], None).await;
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("text/javascript"),
            "{p}"
        );
    }
    let r = srv.req("GET", "/pkg", &[], None).await;
    assert_eq!((r.status, r.header("location")), (301, Some("/pkg/")));
    assert_eq!(srv.req("GET", "/pkg/", &[], None).await.text(), "pkg");
    assert_error(
        &srv.req("GET", "/missing.js", &[], None).await,
        404,
        "not_found_error",
    );
    assert_error(
        &srv.req("GET", "/../Cargo.toml", &[], None).await,
        404,
        "not_found_error",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn demo_scenario_has_history_at_once_and_plays_live() {
    let srv = start_with(|c| {
        c.scenario = threadtail_devserver::Scenario::Demo;
        c.speed = 50.0;
    })
    .await;
    let sid = threadtail_devserver::scenario::DEMO_SESSION_ID;
    let sessions = srv.req("GET", "/_control/sessions", &[], None).await.json();
    assert_eq!(sessions["sessions"][0]["session_id"], sid);
    let threads = srv.api(&format!("/v1/sessions/{sid}/threads")).await.json();
    let coord = threads["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(threads["data"][0]["agent_name"], "Coordinator");
    let mut s = srv
        .stream(&format!("/v1/sessions/{sid}/events/stream"), &[])
        .await;
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 60).await;
    assert_eq!(data(&got[0])["session_thread_id"], coord.as_str());
    let kinds: Vec<&str> = got.iter().map(|b| b.event.as_deref().unwrap()).collect();
    for k in [
        "session.thread_created",
        "agent.thread_message_sent",
        "agent.thread_message_received",
        "agent.tool_use",
        "agent.tool_result",
        "agent.message",
    ] {
        assert!(kinds.contains(&k), "{k} missing in {kinds:?}");
    }
    assert!(got
        .iter()
        .any(|b| b.data.as_deref().unwrap().contains("ラウンド")));
    let _ = take_blocks(&mut buf);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn control_bodies_are_json_whatever_the_content_type() {
    let srv = start().await;
    // `curl -d` sends a form content type, a page's "simple" POST text/plain: both are read.
    for (i, ct) in ["application/x-www-form-urlencoded", "text/plain", ""]
        .into_iter()
        .enumerate()
    {
        let body = format!(r#"{{"session_id":"sess_ct{i}"}}"#);
        let headers: &[(&str, &str)] = if ct.is_empty() {
            &[]
        } else {
            &[("Content-Type", ct)]
        };
        let r = srv
            .req("POST", "/_control/sessions", headers, Some(body.as_bytes()))
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.text());
        assert_eq!(r.json()["session_id"], format!("sess_ct{i}"));
    }
    // An empty body is `{}`.
    let r = srv
        .req("POST", "/_control/sessions", &[], Some(b" \n"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Bodies that are not JSON, or not the route's shape: the typed 400.
    let sid = srv.session().await;
    for (path, body) in [
        ("/_control/sessions".to_string(), "{bad"),
        ("/_control/sessions".to_string(), r#"{"session_id":""}"#),
        ("/_control/sessions".to_string(), r#"{"session_id":5}"#),
        (
            format!("/_control/sessions/{sid}/threads"),
            r#"{"agent_name":""}"#,
        ),
        (
            format!("/_control/sessions/{sid}/threads"),
            r#"{"role":["x"]}"#,
        ),
        (
            format!("/_control/sessions/{sid}/threads/sthr_x/events"),
            "[1]",
        ),
        (
            format!("/_control/sessions/{sid}/threads/sthr_x/events/batch"),
            "{}",
        ),
        (
            format!("/_control/sessions/{sid}/threads/sthr_x/events/batch"),
            r#"{"count":-1}"#,
        ),
        ("/_control/faults".to_string(), ""),
        ("/_control/config".to_string(), r#"{"ids":1}"#),
    ] {
        let r = srv
            .req(
                "POST",
                &path,
                &[("Content-Type", "application/json")],
                Some(body.as_bytes()),
            )
            .await;
        assert_error(&r, 400, "invalid_request_error");
    }
}
