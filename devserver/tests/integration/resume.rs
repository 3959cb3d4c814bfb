//! What exactly-once tests need: random (non-sortable) event ids, a server that ignores
//! `Last-Event-ID`, and `Last-Event-ID` read as UTF-8 bytes.

use std::time::Duration;

use serde_json::{json, Value};
use threadtail_devserver::client::{request_bytes, Streaming};
use threadtail_devserver::{HistoryMode, IdMode};

use crate::common::*;

/// `evt_` + a lowercase hyphenated UUID v4.
fn is_uuid_event_id(id: &str) -> bool {
    id.strip_prefix("evt_")
        .is_some_and(threadtail_devserver::client::is_uuid_v4)
}

/// `evt_` + 32 lowercase hex digits.
fn is_seq_event_id(id: &str) -> bool {
    id.strip_prefix("evt_")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn ids_of(blocks: &[threadtail_devserver::client::SseBlock]) -> Vec<String> {
    blocks.iter().map(|b| b.id.clone().unwrap()).collect()
}

fn list_ids(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

async fn config(srv: &Srv) -> Value {
    let r = srv.req("GET", "/_control/config", &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn set_config(srv: &Srv, body: Value) -> Value {
    let r = srv.post("/_control/config", body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Opens a thread stream with `Last-Event-ID` and reads `n` events.
async fn resume(srv: &Srv, sid: &str, tid: &str, last: &str, n: usize) -> Vec<String> {
    let mut s = srv
        .stream(&thread_stream(sid, tid), &[("Last-Event-ID", last)])
        .await;
    assert_eq!(s.status, 200);
    let mut buf = Vec::new();
    let got = ids_of(&events(&mut s, &mut buf, n).await);
    no_event_within(&mut s, &mut buf, Duration::from_millis(150)).await;
    got
}

#[tokio::test]
async fn uuid_ids_do_not_sort_yet_streams_and_lists_keep_creation_order() {
    let srv = start_with(|c| c.ids = IdMode::Uuid).await;
    assert_eq!(
        config(&srv).await,
        json!({"ids": "uuid", "ignore_last_event_id": false})
    );
    let (sid, tid) = srv.session_thread().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(srv.message(&sid, &tid, &format!("m{i}")).await);
    }
    assert!(ids.iter().all(|i| is_uuid_event_id(i)), "{ids:?}");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_ne!(sorted, ids, "the ids happen to sort in creation order");
    // An event with both an earlier event whose id sorts after it and a later event whose id
    // sorts before it: resuming there by id order would skip and repeat events.
    let k = (1..ids.len() - 1)
        .find(|&k| ids[..k].iter().any(|e| *e > ids[k]) && ids[k + 1..].iter().any(|l| *l < ids[k]))
        .expect("an event out of id order on both sides");

    // Replay: creation order, on the thread and the session stream.
    let mut s = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    let mut buf = Vec::new();
    let got = events(&mut s, &mut buf, 12).await;
    assert_eq!(ids_of(&got), ids);
    for (i, b) in got.iter().enumerate() {
        assert_eq!(data(b)["content"][0]["text"], format!("m{i}"));
        assert_eq!(data(b)["id"].as_str(), b.id.as_deref());
    }
    let live = srv.message(&sid, &tid, "live").await;
    assert!(is_uuid_event_id(&live));
    assert_eq!(ids_of(&events(&mut s, &mut buf, 1).await), [live.as_str()]);
    let mut all = ids.clone();
    all.push(live.clone());
    let mut s = srv
        .stream(&format!("/v1/sessions/{sid}/events/stream"), &[])
        .await;
    let mut buf = Vec::new();
    assert_eq!(ids_of(&events(&mut s, &mut buf, 13).await), all);

    // Resume after a uuid id: exactly the events created after it.
    assert_eq!(
        resume(&srv, &sid, &tid, &ids[k], 12 - k).await,
        all[k + 1..]
    );
    let mut s = srv
        .stream(
            &format!("/v1/sessions/{sid}/events/stream"),
            &[("Last-Event-ID", &ids[k])],
        )
        .await;
    let mut buf = Vec::new();
    assert_eq!(
        ids_of(&events(&mut s, &mut buf, 12 - k).await),
        all[k + 1..]
    );

    // Lists: creation order, both directions, paging, after_id / before_id.
    let base = format!("/v1/sessions/{sid}/threads/{tid}/events");
    let list = srv.api(&base).await.json();
    assert_eq!(list_ids(&list), all);
    assert_eq!(list["first_id"], all[0].as_str());
    assert_eq!(list["last_id"], live.as_str());
    let desc = srv.api(&format!("{base}?order=desc")).await.json();
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(list_ids(&desc), rev);
    let mut paged = Vec::new();
    let mut page = String::new();
    loop {
        let r = srv.api(&format!("{base}?limit=5&page={page}")).await.json();
        paged.extend(list_ids(&r));
        match r["next_page"].as_str() {
            Some(p) => page = p.to_string(),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let after = srv.api(&format!("{base}?after_id={}", ids[k])).await.json();
    assert_eq!(list_ids(&after), all[k + 1..]);
    let before = srv
        .api(&format!("{base}?before_id={}", ids[k]))
        .await
        .json();
    assert_eq!(list_ids(&before), all[..k]);
}

#[tokio::test]
async fn control_config_switches_ids_and_resume_on_a_running_server() {
    let srv = start().await;
    let defaults = json!({"ids": "seq", "ignore_last_event_id": false});
    assert_eq!(config(&srv).await, defaults);
    let (sid, tid) = srv.session_thread().await;
    let a = srv.message(&sid, &tid, "a").await;
    assert!(is_seq_event_id(&a), "{a}");

    assert_eq!(
        set_config(&srv, json!({"ids": "uuid"})).await,
        json!({"ids": "uuid", "ignore_last_event_id": false})
    );
    let b = srv.message(&sid, &tid, "b").await;
    assert!(is_uuid_event_id(&b), "{b}");
    assert_eq!(
        set_config(&srv, json!({"ids": "seq"})).await,
        json!({"ids": "seq", "ignore_last_event_id": false})
    );
    let c = srv.message(&sid, &tid, "c").await;
    assert!(is_seq_event_id(&c), "{c}");
    assert!(c > a);
    assert_eq!(
        resume(&srv, &sid, &tid, &a, 2).await,
        [b.clone(), c.clone()]
    );
    assert_eq!(resume(&srv, &sid, &tid, &b, 1).await, [c.as_str()]);

    // Ignoring Last-Event-ID, switched on and off.
    assert_eq!(
        set_config(&srv, json!({"ignore_last_event_id": true})).await,
        json!({"ids": "seq", "ignore_last_event_id": true})
    );
    assert_eq!(
        resume(&srv, &sid, &tid, &b, 3).await,
        [a.clone(), b.clone(), c.clone()]
    );
    set_config(&srv, json!({"ignore_last_event_id": false})).await;
    assert_eq!(resume(&srv, &sid, &tid, &b, 1).await, [c.as_str()]);

    // An empty body changes nothing; bad values change nothing and are 400.
    assert_eq!(
        srv.req("POST", "/_control/config", &[], None).await.json(),
        defaults
    );
    for bad in [
        json!({"ids": "random"}),
        json!({"ids": "uuid", "ignore_last_event_id": "yes"}),
        json!({"ids": "uuid", "bogus": 1}),
        json!(["uuid"]),
    ] {
        let r = srv.post("/_control/config", bad).await;
        assert_error(&r, 400, "invalid_request_error");
    }
    assert_eq!(config(&srv).await, defaults);

    // Reset goes back to the start-up configuration.
    set_config(&srv, json!({"ids": "uuid", "ignore_last_event_id": true})).await;
    assert_eq!(srv.post("/_control/reset", json!({})).await.status, 200);
    assert_eq!(config(&srv).await, defaults);
}

#[tokio::test]
async fn ignore_last_event_id_replays_from_the_start() {
    let srv = start_with(|c| c.ignore_last_event_id = true).await;
    assert_eq!(
        config(&srv).await,
        json!({"ids": "seq", "ignore_last_event_id": true})
    );
    let (sid, tid) = srv.session_thread().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(srv.message(&sid, &tid, &format!("m{i}")).await);
    }
    let path = thread_stream(&sid, &tid);
    let mut s = srv.stream(&path, &[("Last-Event-ID", &ids[2])]).await;
    assert_eq!(s.status, 200);
    let mut buf = Vec::new();
    assert_eq!(ids_of(&events(&mut s, &mut buf, 5).await), ids);
    let live = srv.message(&sid, &tid, "live").await;
    assert_eq!(ids_of(&events(&mut s, &mut buf, 1).await), [live.as_str()]);
    no_event_within(&mut s, &mut buf, Duration::from_millis(150)).await;
    let mut all = ids.clone();
    all.push(live);

    // The header is still logged.
    let log = srv.req("GET", "/_control/requests", &[], None).await.json();
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["path"], path.as_str());
    assert_eq!(last["headers"]["last-event-id"], ids[2].as_str());

    // Unknown and non-UTF-8 ids are not looked at either; the session stream does the same.
    assert_eq!(resume(&srv, &sid, &tid, "evt_unknown", 6).await, all);
    let (k, v) = auth();
    let mut s = Streaming::open_bytes(
        srv.addr,
        "GET",
        &path,
        &[(k, v.as_bytes()), ("Last-Event-ID", b"evt_\xff")],
        None,
    )
    .await
    .unwrap();
    assert_eq!(s.status, 200);
    let mut buf = Vec::new();
    assert_eq!(ids_of(&events(&mut s, &mut buf, 6).await), all);
    let mut s = srv
        .stream(
            &format!("/v1/sessions/{sid}/events/stream"),
            &[("Last-Event-ID", &all[4])],
        )
        .await;
    let mut buf = Vec::new();
    assert_eq!(ids_of(&events(&mut s, &mut buf, 6).await), all);

    // With --history tail too: Last-Event-ID gets the whole history, no header gets live only.
    let srv = start_with(|c| {
        c.ignore_last_event_id = true;
        c.history = HistoryMode::Tail;
    })
    .await;
    let (sid, tid) = srv.session_thread().await;
    let a = srv.message(&sid, &tid, "a").await;
    let b = srv.message(&sid, &tid, "b").await;
    assert_eq!(resume(&srv, &sid, &tid, &b, 2).await, [a, b]);
    let mut s = srv.stream(&thread_stream(&sid, &tid), &[]).await;
    let mut buf = Vec::new();
    no_event_within(&mut s, &mut buf, Duration::from_millis(150)).await;
}

#[tokio::test]
async fn last_event_id_is_read_as_utf8_bytes() {
    let srv = start().await;
    let (sid, tid) = srv.session_thread().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(srv.message(&sid, &tid, &format!("m{i}")).await);
    }
    // The control API assigns every id itself (a given `id` is dropped), so no event can be
    // named `evt_日本`: that id is decoded, then refused as unknown, quoting the decoded text.
    let ev = srv
        .event(
            &sid,
            &tid,
            json!({"type": "agent.message", "id": "evt_日本"}),
        )
        .await;
    assert!(is_seq_event_id(ev["id"].as_str().unwrap()), "{ev}");
    let all: Vec<String> = ids
        .iter()
        .cloned()
        .chain([ev["id"].as_str().unwrap().to_string()])
        .collect();

    srv.req("DELETE", "/_control/requests", &[], None).await;
    let path = thread_stream(&sid, &tid);
    let (k, v) = auth();
    // The client writes the string's UTF-8 bytes, one per header byte, as browsers do.
    let r = srv
        .req(
            "GET",
            &path,
            &[(k, &v), ("Last-Event-ID", "evt_日本")],
            None,
        )
        .await;
    assert_error(&r, 400, "invalid_request_error");
    assert_eq!(
        r.json()["error"]["message"],
        format!("Last-Event-ID 'evt_日本' is not an event of session thread '{tid}'.")
    );
    let log = srv.req("GET", "/_control/requests", &[], None).await.json();
    assert_eq!(log[0]["headers"]["last-event-id"], "evt_日本", "{log}");
    // The session stream decodes the same way.
    let r = srv
        .req(
            "GET",
            &format!("/v1/sessions/{sid}/events/stream"),
            &[(k, &v), ("Last-Event-ID", "evt_日本")],
            None,
        )
        .await;
    assert_error(&r, 400, "invalid_request_error");
    assert_eq!(
        r.json()["error"]["message"],
        format!("Last-Event-ID 'evt_日本' is not an event of session '{sid}'.")
    );

    // An existing id round-trips through the UTF-8 decoding; only spaces and tabs are trimmed.
    assert_eq!(
        resume(&srv, &sid, &tid, &format!(" \t{}\t ", ids[0]), 3).await,
        all[1..]
    );
    let nbsp = format!("{}\u{a0}", ids[0]);
    let r = srv
        .req("GET", &path, &[(k, &v), ("Last-Event-ID", &nbsp)], None)
        .await;
    assert_error(&r, 400, "invalid_request_error");
    assert_eq!(
        r.json()["error"]["message"],
        format!("Last-Event-ID '{nbsp}' is not an event of session thread '{tid}'.")
    );

    // Bytes that are not UTF-8 (a cut `日`): 400, and the log shows the lossy decoding.
    srv.req("DELETE", "/_control/requests", &[], None).await;
    let r = request_bytes(
        srv.addr,
        "GET",
        &path,
        &[(k, v.as_bytes()), ("Last-Event-ID", b"evt_\xe6\x97")],
        None,
    )
    .await
    .unwrap();
    assert_error(&r, 400, "invalid_request_error");
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("not valid UTF-8"), "{msg}");
    let log = srv.req("GET", "/_control/requests", &[], None).await.json();
    assert_eq!(log[0]["headers"]["last-event-id"], "evt_\u{FFFD}", "{log}");
}
