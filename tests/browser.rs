//! Browser tests (headless Chromium and Firefox) against the reference server started by
//! `npm test`, whose URL is baked in at compile time as `THREADTAIL_TEST_SERVER`. Every fetch is
//! cross-origin (the runner's page has its own origin), so CORS preflights are exercised.
//!
//! With the server down, every test here fails: nothing is mocked.
#![cfg(target_arch = "wasm32")]

use futures_core::Stream;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use threadtail::client::{Callbacks, StreamConfig, ThreadStream, Token};
use threadtail::events::Payload;
use threadtail::request::Target;
use threadtail::resume::RetryOptions;
use threadtail::sse::{Item, Parser};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{ReadableStreamDefaultReader, Response};

wasm_bindgen_test_configure!(run_in_browser);

const TOKEN: &str = "devtoken";

fn server() -> &'static str {
    match option_env!("THREADTAIL_TEST_SERVER") {
        Some(url) => url,
        None => panic!("THREADTAIL_TEST_SERVER must be set at compile time (npm test does it)"),
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(url: &str, init: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: i32) -> JsValue;
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

async fn fetch(url: &str, init: JsValue) -> Response {
    JsFuture::from(fetch_with_init(url, &init))
        .await
        .unwrap_or_else(|e| panic!("fetch {url} failed (is the reference server up?): {e:?}"))
        .unchecked_into()
}

async fn control(method: &str, path: &str, body: Option<&str>) -> JsValue {
    let mut init = vec![("method", JsValue::from_str(method))];
    if let Some(b) = body {
        init.push(("body", JsValue::from_str(b)));
        init.push((
            "headers",
            obj(&[("content-type", "application/json".into())]),
        ));
    }
    let r = fetch(&format!("{}/_control{path}", server()), obj(&init)).await;
    assert!(r.ok(), "{method} /_control{path}: HTTP {}", r.status());
    JsFuture::from(r.json().unwrap()).await.unwrap()
}

fn get_str(v: &JsValue, k: &str) -> String {
    Reflect::get(v, &JsValue::from_str(k))
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

/// A fresh session with one coordinator thread; returns (session id, thread id).
async fn session_with_thread() -> (String, String) {
    let sid = format!("sess_b{}", (js_sys::Math::random() * 1e12) as u64);
    control(
        "POST",
        "/sessions",
        Some(&format!(r#"{{"session_id":"{sid}"}}"#)),
    )
    .await;
    let t = control(
        "POST",
        &format!("/sessions/{sid}/threads"),
        Some(r#"{"agent_name":"Coordinator","parent_thread_id":null}"#),
    )
    .await;
    (sid, get_str(&t, "id"))
}

async fn post_event(sid: &str, tid: &str, text: &str) -> String {
    let body =
        format!(r#"{{"type":"agent.message","content":[{{"type":"text","text":"{text}"}}]}}"#);
    let e = control(
        "POST",
        &format!("/sessions/{sid}/threads/{tid}/events"),
        Some(&body),
    )
    .await;
    get_str(&e, "id")
}

async fn requests_to(path_part: &str) -> Vec<JsValue> {
    let all: Array = control("GET", "/requests", None).await.unchecked_into();
    all.iter()
        .filter(|r| get_str(r, "path").contains(path_part))
        .collect()
}

fn header(req: &JsValue, name: &str) -> String {
    let h = Reflect::get(req, &JsValue::from_str("headers")).unwrap();
    get_str(&h, name)
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    JsFuture::from(p).await.unwrap();
}

async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

/// The pipeline: a cross-origin `fetch` with `Authorization` and `Last-Event-ID` (both force a
/// CORS preflight), the `text/event-stream` body read chunk by chunk and parsed.
#[wasm_bindgen_test]
async fn fetch_streams_an_event_stream_with_auth_and_last_event_id() {
    let (sid, tid) = session_with_thread().await;
    let first = post_event(&sid, &tid, "one").await;
    let second = post_event(&sid, &tid, "二つ目").await;
    let third = post_event(&sid, &tid, "three").await;
    // Small chunks, so the body really arrives in pieces.
    control(
        "POST",
        "/faults",
        Some(r#"{"count":1,"chunk_bytes":64,"write_delay_ms":5}"#),
    )
    .await;
    control("DELETE", "/requests", None).await;

    let url = format!("{}/v1/sessions/{sid}/threads/{tid}/stream", server());
    let headers = obj(&[
        ("Authorization", format!("Bearer {TOKEN}").into()),
        ("Last-Event-ID", first.clone().into()),
        ("Accept", "text/event-stream".into()),
    ]);
    let response = fetch(&url, obj(&[("headers", headers)])).await;
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .unwrap()
        .unwrap()
        .starts_with("text/event-stream"));
    let reader: ReadableStreamDefaultReader =
        response.body().unwrap().get_reader().unchecked_into();

    let mut parser = Parser::new();
    let mut items: Vec<Item> = Vec::new();
    let mut chunks = 0;
    while items.iter().filter(|i| matches!(i, Item::Event(_))).count() < 2 {
        let result = JsFuture::from(reader.read()).await.unwrap();
        assert!(
            !Reflect::get(&result, &"done".into()).unwrap().is_truthy(),
            "stream ended early"
        );
        let bytes: Uint8Array = Reflect::get(&result, &"value".into())
            .unwrap()
            .unchecked_into();
        chunks += 1;
        parser.push(&bytes.to_vec(), &mut items);
    }
    let _ = reader.cancel();
    let ids: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Event(e) => e.id.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        vec![second, third],
        "resumed strictly after Last-Event-ID"
    );
    assert!(chunks > 2, "the body arrived in {chunks} chunks");
    let data: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some(e.data.clone()),
            _ => None,
        })
        .collect();
    assert!(
        data[0].contains("二つ目"),
        "multi-byte text survives chunking: {}",
        data[0]
    );

    let reqs = requests_to("/stream").await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(header(&reqs[0], "authorization"), format!("Bearer {TOKEN}"));
    assert_eq!(header(&reqs[0], "last-event-id"), first);
}

fn config(sid: &str, tid: &str) -> StreamConfig {
    let mut c = StreamConfig::new(
        format!("{}/v1", server()),
        Target::Thread {
            session_id: sid.into(),
            thread_id: tid.into(),
        },
        Token::Static(TOKEN.into()),
    );
    c.retry = RetryOptions {
        initial_delay_ms: 20,
        max_delay_ms: 200,
        min_delay_ms: 10,
        ..RetryOptions::default()
    };
    c
}

/// Posts an event whose frame on the stream is `frame`, as written (`_raw_frame`).
async fn post_raw_frame(sid: &str, tid: &str, frame: &str) {
    let body = obj(&[
        ("type", JsValue::from_str("agent.message")),
        ("_raw_frame", JsValue::from_str(frame)),
    ]);
    let body = JSON::stringify(&body).unwrap().as_string().unwrap();
    control(
        "POST",
        &format!("/sessions/{sid}/threads/{tid}/events"),
        Some(&body),
    )
    .await;
}

/// A thread's end as a server that names every event `message` sends it: the JSON `type`
/// alone says it.
fn termination_named_message(tid: &str) -> String {
    format!(
        "id: evt_end_{tid}\nevent: message\ndata: {{\"type\":\"session.thread_status_terminated\",\"session_thread_id\":\"{tid}\"}}\n\n"
    )
}

/// `next` within `ms`, or `Err(())` when nothing came.
async fn next_within<S: Stream + Unpin>(s: &mut S, ms: i32) -> Result<Option<S::Item>, ()> {
    let mut timer = std::pin::pin!(sleep(ms));
    poll_fn(|cx| {
        if let std::task::Poll::Ready(item) = Pin::new(&mut *s).poll_next(cx) {
            return std::task::Poll::Ready(Ok(item));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(Err(()));
        }
        std::task::Poll::Pending
    })
    .await
}

/// A thread stream (`ThreadStream::events`) ends at its thread's end named by the JSON `type`
/// only, as the JavaScript classes and `Callbacks` do, and sends no other request.
#[wasm_bindgen_test]
async fn rust_event_stream_ends_at_a_termination_named_by_its_json_type() {
    let (sid, tid) = session_with_thread().await;
    let before = post_event(&sid, &tid, "before the end").await;
    post_raw_frame(&sid, &tid, &termination_named_message(&tid)).await;
    control("DELETE", "/requests", None).await;
    let mut events = ThreadStream::events(config(&sid, &tid)).unwrap();
    let mut types = Vec::new();
    loop {
        match next_within(&mut events, 5_000).await {
            Ok(Some(Ok((e, _)))) => types.push((e.id.unwrap_or_default(), e.event_type)),
            Ok(Some(Err(e))) => panic!("unexpected error {e}"),
            Ok(None) => break,
            Err(()) => panic!("the stream did not end at the termination: {types:?}"),
        }
    }
    assert_eq!(
        types,
        [
            (before, String::from("agent.message")),
            (
                format!("evt_end_{tid}"),
                String::from("session.thread_status_terminated")
            ),
        ]
    );
    sleep(300).await;
    assert_eq!(
        requests_to("/stream").await.len(),
        1,
        "no reconnect after the end"
    );
}

/// A session stream through `Callbacks` goes on past one thread's end (named by the JSON type
/// only): the session is not over.
#[wasm_bindgen_test]
async fn rust_session_stream_goes_on_past_a_threads_end() {
    let (sid, tid) = session_with_thread().await;
    let mut c = config(&sid, &tid);
    c.target = Target::Session {
        session_id: sid.clone(),
    };
    let seen: std::rc::Rc<std::cell::RefCell<Vec<String>>> = Default::default();
    let got = seen.clone();
    let stream = ThreadStream::connect(
        c,
        Callbacks::new(move |e, _| got.borrow_mut().push(e.event_type)),
    )
    .unwrap();
    post_raw_frame(&sid, &tid, &termination_named_message(&tid)).await;
    let other = control(
        "POST",
        &format!("/sessions/{sid}/threads"),
        Some(r#"{"agent_name":"Helper","parent_thread_id":null}"#),
    )
    .await;
    let after = post_event(&sid, &get_str(&other, "id"), "after one thread ended").await;
    let deadline = js_sys::Date::now() + 5_000.0;
    while !seen.borrow().iter().any(|t| t == "agent.message") && js_sys::Date::now() < deadline {
        sleep(50).await;
    }
    let types = seen.borrow().clone();
    assert!(
        types
            .iter()
            .any(|t| t == "session.thread_status_terminated"),
        "{types:?}"
    );
    assert!(
        types.iter().any(|t| t == "agent.message"),
        "the event {after} after a thread's end was not delivered: {types:?}"
    );
    drop(stream);
}

/// The Rust client: history then live, typed, as a `Stream`.
#[wasm_bindgen_test]
async fn rust_client_delivers_history_then_live_typed() {
    let (sid, tid) = session_with_thread().await;
    let h1 = post_event(&sid, &tid, "history").await;
    let mut events = ThreadStream::events(config(&sid, &tid)).unwrap();
    let (first, update) = next(&mut events).await.unwrap().unwrap();
    assert_eq!(first.id.as_deref(), Some(h1.as_str()));
    assert!(!update);
    let live = post_event(&sid, &tid, "live").await;
    let (second, _) = next(&mut events).await.unwrap().unwrap();
    assert_eq!(second.id.as_deref(), Some(live.as_str()));
    match &second.payload {
        Payload::AgentMessage(m) => assert_eq!(m.content.as_ref().unwrap().text(), "live"),
        other => panic!("expected agent.message, got {other:?}"),
    }
    assert_eq!(second.thread_id(), Some(tid.as_str()));
}

/// Drops in the middle of the body: every event once, in order, `Last-Event-ID` on each
/// reconnect.
#[wasm_bindgen_test]
async fn resumes_after_drops_without_loss_or_duplicates() {
    let (sid, tid) = session_with_thread().await;
    let body = r#"{"count":60,"template":{"type":"agent.message","content":"メッセージ {i} ✓"}}"#;
    control(
        "POST",
        &format!("/sessions/{sid}/threads/{tid}/events/batch"),
        Some(body),
    )
    .await;
    control("DELETE", "/requests", None).await;
    control(
        "POST",
        "/faults",
        Some(r#"{"count":3,"close_after_bytes":1500}"#),
    )
    .await;
    let mut events = ThreadStream::events(config(&sid, &tid)).unwrap();
    let mut ids = Vec::new();
    while ids.len() < 60 {
        match next(&mut events).await {
            Some(Ok((e, _))) => ids.push(e.id.unwrap()),
            Some(Err(_)) => {}
            None => panic!("stream ended after {} events", ids.len()),
        }
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "in order, no duplicate");
    drop(events);
    let reqs = requests_to("/stream").await;
    assert!(
        reqs.len() >= 4,
        "reconnected after each of the 3 drops: {} requests",
        reqs.len()
    );
    for (i, r) in reqs.iter().enumerate().skip(1) {
        let id = header(r, "last-event-id");
        assert!(ids.contains(&id), "reconnect {i} sent Last-Event-ID {id:?}");
    }
}

/// The JavaScript class in the browser: a fatal 404 is a `ThreadtailError` of kind `not_found`
/// and the stream closes without reconnecting.
#[wasm_bindgen_test]
async fn js_class_reports_not_found_and_stops() {
    control("DELETE", "/requests", None).await;
    let options = obj(&[
        ("baseUrl", format!("{}/v1", server()).into()),
        ("sessionId", "sess_does_not_exist".into()),
        ("threadId", "sthr_nope".into()),
        ("token", TOKEN.into()),
    ]);
    let stream = threadtail::ThreadStream::new(options).unwrap();
    let (tx, rx) = {
        let mut slot = None;
        let p = Promise::new(&mut |resolve, _| slot = Some(resolve));
        (slot.unwrap(), p)
    };
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        tx.call1(&JsValue::UNDEFINED, &e).unwrap();
    });
    let _off: Function = stream.on_error(on_error.as_ref().unchecked_ref::<Function>().clone());
    let err = JsFuture::from(rx).await.unwrap();
    assert!(err.is_instance_of::<js_sys::Error>(), "a real Error");
    assert_eq!(get_str(&err, "kind"), "not_found");
    assert_eq!(
        Reflect::get(&err, &"status".into()).unwrap().as_f64(),
        Some(404.0)
    );
    assert_eq!(get_str(&err, "type"), "not_found_error");
    assert!(
        !get_str(&err, "message").contains(TOKEN),
        "no token in messages"
    );
    sleep(200).await;
    assert_eq!(stream.state(), "closed");
    assert_eq!(
        requests_to("/stream").await.len(),
        1,
        "no reconnect after 404"
    );
    let json = JSON::stringify(&err).unwrap().as_string().unwrap();
    assert!(!json.contains(TOKEN));
}

/// `online` ends a pending backoff delay: the stream reconnects now, not after the delay.
#[wasm_bindgen_test]
async fn online_skips_the_remaining_backoff_delay() {
    let (sid, tid) = session_with_thread().await;
    let id = post_event(&sid, &tid, "after the outage").await;
    control("DELETE", "/requests", None).await;
    control("POST", "/faults", Some(r#"{"count":1,"status":503}"#)).await;
    let mut c = config(&sid, &tid);
    c.retry = RetryOptions {
        initial_delay_ms: 8_000,
        min_delay_ms: 8_000,
        max_delay_ms: 8_000,
        ..RetryOptions::default()
    };
    let started = js_sys::Date::now();
    let mut events = ThreadStream::events(c).unwrap();
    // The first attempt gets the 503 and reports it; the stream now waits 8 s.
    match next(&mut events).await {
        Some(Err(e)) => assert_eq!(e.status(), Some(503)),
        other => panic!("expected the 503 first, got {other:?}"),
    }
    sleep(100).await;
    let global: web_sys::EventTarget = js_sys::global().unchecked_into();
    global
        .dispatch_event(&web_sys::Event::new("online").unwrap())
        .unwrap();
    let (event, _) = next(&mut events).await.unwrap().unwrap();
    assert_eq!(event.id.as_deref(), Some(id.as_str()));
    let waited = js_sys::Date::now() - started;
    assert!(
        waited < 4_000.0,
        "reconnected after {waited} ms: the 8 s delay was not skipped"
    );
    assert_eq!(requests_to("/stream").await.len(), 2);
}

/// Large text that is not ASCII, with escapes, through the JavaScript class as a browser runs
/// it: its long strings are cut out in wasm and put back after `JSON.parse` of the rest
/// (src/holes.rs), with the whole chunk decoded at once (glue.js `BatchReader`, as in browsers).
#[wasm_bindgen_test]
async fn js_class_delivers_large_non_ascii_text_intact() {
    let (sid, tid) = session_with_thread().await;
    let text = "調査結果を\"まとめ\"ました。\n😀 é \\ tab\t ".repeat(300);
    let body = serde_json::json!({
        "type": "agent.message",
        "content": [{ "type": "text", "text": text }],
    })
    .to_string();
    assert!(body.len() > 10_000);
    control(
        "POST",
        &format!("/sessions/{sid}/threads/{tid}/events"),
        Some(&body),
    )
    .await;
    let stream = threadtail::ThreadStream::new(obj(&[
        ("baseUrl", format!("{}/v1", server()).into()),
        ("sessionId", sid.as_str().into()),
        ("threadId", tid.as_str().into()),
        ("token", TOKEN.into()),
    ]))
    .unwrap();
    let seen = Array::new();
    let push = seen.clone();
    let on_event = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        push.push(&e);
    });
    let _off = stream.on_event(on_event.as_ref().unchecked_ref::<Function>().clone());
    let mut message = None;
    for _ in 0..100 {
        message = seen.iter().find(|e| get_str(e, "type") == "agent.message");
        if message.is_some() {
            break;
        }
        sleep(50).await;
    }
    stream.close();
    let message = message.expect("the agent.message arrives");
    let content = Reflect::get(&message, &"content".into()).unwrap();
    let first = Reflect::get(&content, &0.into()).unwrap();
    let got = get_str(&first, "text");
    assert!(
        got == text,
        "the text differs: {} chars, {:?}...",
        got.chars().count(),
        got.chars().take(20).collect::<String>()
    );
    assert_eq!(get_str(&first, "type"), "text");
}

/// The Rust lists: a thread's history typed, and the session's threads, over pages, on the
/// same lifecycle machine as the streams.
#[wasm_bindgen_test]
async fn rust_lists_page_through_history_and_threads() {
    let (sid, tid) = session_with_thread().await;
    let mut ids = Vec::new();
    for text in ["one", "二", "three"] {
        ids.push(post_event(&sid, &tid, text).await);
    }
    let events = threadtail::client::list_thread_events(config(&sid, &tid))
        .await
        .expect("the history");
    let listed: Vec<String> = events.iter().filter_map(|e| e.id.clone()).collect();
    assert_eq!(listed, ids);
    assert!(events.iter().all(|e| e.event_type == "agent.message"));
    let threads = threadtail::client::list_threads(config(&sid, &tid))
        .await
        .expect("the threads");
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["id"], tid.as_str());
    let missing = threadtail::client::list_thread_events(config(&sid, "sthr_missing")).await;
    assert_eq!(missing.unwrap_err().kind(), threadtail::ErrorKind::NotFound);
}
