//! REST routes: thread list, event list, paging, errors.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn lists_threads_with_status_tracking_and_paging() {
    let srv = start().await;
    let (sid, coord) = srv.session_thread().await;
    let child = srv.thread(&sid, "Research Agent", Some(&coord)).await;
    let r = srv.api(&format!("/v1/sessions/{sid}/threads")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let j = r.json();
    assert_eq!(j["next_page"], json!(null));
    let c = &j["data"][0];
    assert_eq!(c["id"], coord.as_str());
    assert_eq!(c["type"], "session_thread");
    assert_eq!(c["session_id"], sid.as_str());
    assert_eq!(c["parent_thread_id"], json!(null));
    assert_eq!(c["role"], "coordinator");
    assert_eq!(c["agent"]["name"], "Coordinator");
    assert_eq!(c["agent"]["version"], 1);
    assert!(c["agent"]["id"].as_str().unwrap().starts_with("agent_"));
    assert_eq!(c["agent_name"], "Coordinator");
    assert_eq!(c["stop_reason"], json!(null));
    assert!(c["created_at"].is_string() && c["updated_at"].is_string());
    assert_eq!(j["data"][1]["parent_thread_id"], coord.as_str());
    assert_eq!(j["data"][1]["role"], "child");

    srv.event(
        &sid,
        &child,
        json!({"type": "session.thread_status_running"}),
    )
    .await;
    let j = srv.api(&format!("/v1/sessions/{sid}/threads")).await.json();
    assert_eq!(j["data"][1]["status"], "running");
    let ev = srv
        .event(
            &sid,
            &child,
            json!({"type": "session.thread_status_idle", "stop_reason": {"type": "end_turn"}}),
        )
        .await;
    assert_eq!(ev["status"], "idle");
    let j = srv.api(&format!("/v1/sessions/{sid}/threads")).await.json();
    assert_eq!(j["data"][1]["status"], "idle");
    assert_eq!(j["data"][1]["stop_reason"], json!({"type": "end_turn"}));
    srv.event(
        &sid,
        &coord,
        json!({"type": "session.thread_status_terminated"}),
    )
    .await;

    let j = srv
        .api(&format!("/v1/sessions/{sid}/threads?statuses[]=terminated"))
        .await
        .json();
    assert_eq!(j["data"].as_array().unwrap().len(), 1);
    assert_eq!(j["data"][0]["id"], coord.as_str());

    let j = srv
        .api(&format!("/v1/sessions/{sid}/threads?limit=1"))
        .await
        .json();
    assert_eq!(j["data"].as_array().unwrap().len(), 1);
    let next = j["next_page"].as_str().unwrap().to_string();
    let j = srv
        .api(&format!("/v1/sessions/{sid}/threads?limit=1&page={next}"))
        .await
        .json();
    assert_eq!(j["data"][0]["id"], child.as_str());
    assert_eq!(j["next_page"], json!(null));

    for q in ["limit=0", "limit=1001", "limit=abc", "page=garbage"] {
        assert_error(
            &srv.api(&format!("/v1/sessions/{sid}/threads?{q}")).await,
            400,
            "invalid_request_error",
        );
    }
    assert_error(
        &srv.api("/v1/sessions/sess_none/threads").await,
        404,
        "not_found_error",
    );
    let r = srv
        .req("GET", &format!("/v1/sessions/{sid}/threads"), &[], None)
        .await;
    assert_error(&r, 401, "authentication_error");
}

#[tokio::test]
async fn lists_events_page_by_page() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(srv.message(&sid, &tid, &format!("m{i}")).await);
    }
    srv.event(&sid, &tid, json!({"type": "agent.thinking"}))
        .await;
    let base = format!("/v1/sessions/{sid}/threads/{tid}/events");
    let j = srv.api(&base).await.json();
    assert_eq!(j["data"].as_array().unwrap().len(), 6);
    assert_eq!(j["has_more"], false);
    assert_eq!(j["next_page"], json!(null));
    assert_eq!(j["first_id"], ids[0].as_str());

    let mut seen = Vec::new();
    let mut page = String::new();
    loop {
        let j = srv
            .api(&format!("{base}?limit=2&type=agent.message&page={page}"))
            .await
            .json();
        let data = j["data"].as_array().unwrap();
        assert_eq!(j["first_id"], data[0]["id"]);
        assert_eq!(j["last_id"], data[data.len() - 1]["id"]);
        seen.extend(data.iter().map(|e| e["id"].as_str().unwrap().to_string()));
        match j["next_page"].as_str() {
            Some(p) => {
                assert_eq!(j["has_more"], true);
                page = p.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, ids);

    let j = srv
        .api(&format!("{base}?types[]=agent.thinking"))
        .await
        .json();
    assert_eq!(j["data"].as_array().unwrap().len(), 1);
    let j = srv.api(&format!("{base}?after_id={}", ids[3])).await.json();
    assert_eq!(j["data"].as_array().unwrap().len(), 2);

    for q in [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "page=evtpg_zz",
        "order=sideways",
    ] {
        assert_error(
            &srv.api(&format!("{base}?{q}")).await,
            400,
            "invalid_request_error",
        );
    }
    let r = srv
        .api(&format!("/v1/sessions/{sid}/threads/sthr_nope/events"))
        .await;
    assert_error(&r, 404, "not_found_error");
    assert_eq!(
        r.json()["error"]["message"],
        "Session thread 'sthr_nope' was not found."
    );
}

#[tokio::test]
async fn api_is_mounted_under_the_prefix_too() {
    let srv = start_with(|c| c.prefixes = vec!["/api/v1/cloud".into()]).await;
    let (sid, _) = srv.session_thread().await;
    assert_eq!(
        srv.api(&format!("/api/v1/cloud/sessions/{sid}/threads"))
            .await
            .status,
        200
    );
    assert_eq!(
        srv.api(&format!("/v1/sessions/{sid}/threads")).await.status,
        200
    );
    assert_error(&srv.api("/v2/nothing").await, 404, "not_found_error");
    let r = srv
        .req("POST", &format!("/v1/sessions/{sid}/threads"), &[], None)
        .await;
    assert_error(&r, 405, "invalid_request_error");
}
