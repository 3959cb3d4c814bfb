//! The native `EventSource` transport, for same-origin, cookie-authenticated deployments.
//!
//! The browser parses the stream and reconnects by itself (sending `Last-Event-ID`); this
//! module listens to every known event type (a native `EventSource` only dispatches named
//! events to listeners registered for that name), dedupes, and when the browser gives up
//! (`readyState` CLOSED, for example after a non-200 status, which it does not expose) opens a
//! new `EventSource` after a backoff delay.

use super::js::{deferred, now_ms, random};
use crate::client::{ReconnectInfo, Shared, StreamConfig};
use crate::error::Error;
use crate::resume::{Backoff, State};
use crate::sse::SseEvent;
use gloo_events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventSource, EventSourceInit, MessageEvent};

/// One native `EventSource` and its listeners; dropping it closes the source.
struct Source {
    es: EventSource,
    _listeners: Vec<EventListener>,
}

impl Drop for Source {
    fn drop(&mut self) {
        self.es.close();
    }
}

pub(crate) async fn run(shared: Rc<Shared>, config: StreamConfig) {
    let _listeners = crate::client::runner_listeners(&shared, &config);
    let has_event_source =
        js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("EventSource")).unwrap_or(false);
    if !has_event_source {
        shared.handler().error(&Error::InvalidArgument {
            field: "transport",
            message: String::from(
                "this runtime has no native EventSource (Node has none); use the default \"fetch\" transport",
            ),
        });
        shared.close();
        return;
    }
    let url = config.target.stream_url(&config.base_url, &config.types);
    let dedupe = Rc::new(RefCell::new(config.dedupe()));
    let mut backoff = Backoff::new(config.retry);
    let config = Rc::new(config);
    let mut types: Vec<String> = crate::events::KNOWN_TYPES
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    types.extend(config.types.iter().cloned());
    types.push(String::from("message"));
    types.push(String::from("error"));
    types.sort();
    types.dedup();
    loop {
        if shared.is_closed() {
            return;
        }
        let init = EventSourceInit::new();
        init.set_with_credentials(config.with_credentials);
        let es = match EventSource::new_with_event_source_init_dict(&url, &init) {
            Ok(es) => es,
            Err(e) => {
                shared.handler().error(&Error::InvalidArgument {
                    field: "baseUrl",
                    message: format!("EventSource refused the URL: {}", super::js::describe(&e)),
                });
                shared.close();
                return;
            }
        };
        let ended = deferred();
        let terminal = Rc::new(std::cell::Cell::new(false));
        let mut listeners = Vec::new();
        {
            let (s, d) = (shared.clone(), dedupe.clone());
            listeners.push(EventListener::new(&es, "open", move |_| {
                // The browser reconnects by itself: each open starts a body that may replay.
                if let Ok(mut d) = d.try_borrow_mut() {
                    d.connected();
                }
                s.set_state(State::Open);
            }));
        }
        for t in &types {
            let (s, c, d, term, end) = (
                shared.clone(),
                config.clone(),
                dedupe.clone(),
                terminal.clone(),
                ended.resolve(),
            );
            // `retry:` is the browser's business here; the delivery only needs somewhere to put it.
            let mut backoff = Backoff::new(c.retry);
            listeners.push(EventListener::new(&es, t.clone(), move |event| {
                let Some(msg) = event.dyn_ref::<MessageEvent>() else {
                    // A plain `error` Event: the connection failed (handled below).
                    return;
                };
                let data = msg.data().as_string().unwrap_or_default();
                let id = msg.last_event_id();
                let sse = SseEvent {
                    event_type: event.type_(),
                    id: (!id.is_empty()).then(|| id.clone()),
                    data,
                    last_event_id: id,
                };
                let mut dd = d.borrow_mut();
                let mut delivery = crate::client::Delivery::new(&s, &c, &mut dd, &mut backoff);
                delivery.deliver(sse.as_ref(), crate::client::Source::Streamed);
                delivery.flush();
                if delivery.terminal {
                    term.set(true);
                    let _ = end.call0(&JsValue::UNDEFINED);
                }
            }));
        }
        {
            let (s, end) = (shared.clone(), ended.resolve());
            let es2 = es.clone();
            listeners.push(EventListener::new(&es, "error", move |event| {
                if event.dyn_ref::<MessageEvent>().is_some() {
                    // An `event: error` frame from the server, delivered above.
                    return;
                }
                if es2.ready_state() == EventSource::CLOSED {
                    let _ = end.call0(&JsValue::UNDEFINED);
                } else {
                    // The browser reconnects by itself.
                    s.set_state(State::Reconnecting);
                }
            }));
        }
        let source = Source {
            es,
            _listeners: listeners,
        };
        backoff.opened(now_ms());
        let _ = JsFuture::from(ended.promise()).await;
        drop(source);
        if shared.is_closed() {
            return;
        }
        if terminal.get() {
            shared.close();
            return;
        }
        let error = Error::Network {
            message: String::from("the EventSource connection failed and the browser gave up (it does not expose the HTTP status)"),
        };
        shared.handler().error(&error);
        match backoff.next_delay(now_ms(), random(), None) {
            None => {
                shared.close();
                return;
            }
            Some(delay_ms) => {
                shared.reconnecting(ReconnectInfo {
                    attempt: backoff.failures(),
                    delay_ms,
                    reason: error.to_string(),
                });
                shared.sleep(delay_ms).await;
            }
        }
    }
}
