//! `ThreadStream` and `SessionStream` for JavaScript: typed callbacks, `for await`, `close()`.

use super::error::to_js;
use super::options::stream_config;
use crate::client::{Handler, ReconnectInfo, Shared};
use crate::error::Error;
use crate::resume::State;
use crate::sse::SseEvent;
use crate::transport::js::{call_listener, decode_error, iter_result, make_off, parse_event};
use js_sys::{Function, Object, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = eventMeta)]
    fn event_meta(update: bool) -> JsValue;
    #[wasm_bindgen(js_name = typeOf)]
    fn type_of(event: &JsValue) -> Option<String>;
}

#[derive(Clone)]
enum Kind {
    Type(String),
    AnyEvent,
    Error,
    State,
    Reconnect,
}

#[derive(Clone)]
struct Listener {
    id: u32,
    kind: Kind,
    f: Function,
}

/// The iterator side of a stream (`for await`).
#[derive(Default)]
struct IterState {
    buffer: VecDeque<JsValue>,
    waiting: Option<(Function, Function)>,
    done: bool,
    failure: Option<JsValue>,
}

/// Dispatches to JavaScript listeners. The listener list is copy-on-write, so a listener may
/// add or remove listeners (or close the stream) while an event is being dispatched.
#[derive(Default)]
struct JsHandler {
    listeners: RefCell<Rc<Vec<Listener>>>,
    next_id: Cell<u32>,
    iter: RefCell<Option<IterState>>,
    /// The latest error that ended (or may end) the stream, for the iterator.
    last_error: RefCell<Option<JsValue>>,
    user_closed: Cell<bool>,
}

impl JsHandler {
    fn add(&self, kind: Kind, f: Function) -> u32 {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        listeners_mut(&self.listeners).push(Listener { id, kind, f });
        id
    }

    fn remove(&self, id: u32) {
        listeners_mut(&self.listeners).retain(|x| x.id != id);
    }

    fn each(&self, mut f: impl FnMut(&Listener)) {
        let snapshot = self.listeners.borrow().clone();
        for l in snapshot.iter() {
            f(l);
        }
    }

    fn iter_push(&self, value: JsValue) {
        let mut guard = self.iter.borrow_mut();
        let Some(it) = guard.as_mut() else { return };
        match it.waiting.take() {
            Some((resolve, _)) => {
                drop(guard);
                let _ = resolve.call1(&JsValue::UNDEFINED, &iter_result(false, &value));
            }
            None => it.buffer.push_back(value),
        }
    }

    fn iter_end(&self) {
        let failure = if self.user_closed.get() {
            None
        } else {
            self.last_error.borrow().clone()
        };
        let mut guard = self.iter.borrow_mut();
        let Some(it) = guard.as_mut() else { return };
        it.done = true;
        it.failure = failure.clone();
        if let Some((resolve, reject)) = it.waiting.take() {
            drop(guard);
            match failure {
                Some(e) => {
                    let _ = reject.call1(&JsValue::UNDEFINED, &e);
                }
                None => {
                    let _ =
                        resolve.call1(&JsValue::UNDEFINED, &iter_result(true, &JsValue::UNDEFINED));
                }
            }
        }
    }
}

fn listeners_mut(cell: &RefCell<Rc<Vec<Listener>>>) -> std::cell::RefMut<'_, Vec<Listener>> {
    std::cell::RefMut::map(cell.borrow_mut(), |rc| Rc::make_mut(rc))
}

impl Handler for JsHandler {
    fn event(&self, event: &SseEvent, update: bool) -> Option<String> {
        let value = parse_event(&event.data, &event.event_type, event.id.as_deref());
        if !value.is_object() {
            // undefined: not JSON; null: JSON but not an object.
            let d = decode_error(event, value.is_null());
            self.error(&Error::Decode(Box::new(d)));
            return None;
        }
        let json_type = if event.event_type == "message" {
            type_of(&value)
        } else {
            None
        };
        let event_type = json_type.as_deref().unwrap_or(&event.event_type);
        let meta = event_meta(update);
        self.each(|l| match &l.kind {
            Kind::AnyEvent => call_listener(&l.f, &value, &meta),
            Kind::Type(t) if t == event_type => call_listener(&l.f, &value, &meta),
            _ => {}
        });
        self.iter_push(value);
        json_type
    }

    fn error(&self, error: &Error) {
        let value = to_js(error);
        if !matches!(error, Error::Decode(_) | Error::TooLarge { .. }) {
            *self.last_error.borrow_mut() = Some(value.clone());
        }
        self.each(|l| {
            if matches!(l.kind, Kind::Error) {
                call_listener(&l.f, &value, &JsValue::UNDEFINED);
            }
        });
    }

    fn state(&self, state: State) {
        if state == State::Open {
            self.last_error.borrow_mut().take();
        }
        let value = JsValue::from_str(state.as_str());
        self.each(|l| {
            if matches!(l.kind, Kind::State) {
                call_listener(&l.f, &value, &JsValue::UNDEFINED);
            }
        });
        if state == State::Closed {
            self.iter_end();
        }
    }

    fn reconnect(&self, info: &ReconnectInfo) {
        let o = Object::new();
        let _ = Reflect::set(&o, &"attempt".into(), &JsValue::from(info.attempt));
        let _ = Reflect::set(&o, &"delayMs".into(), &JsValue::from(info.delay_ms as f64));
        let _ = Reflect::set(&o, &"reason".into(), &JsValue::from_str(&info.reason));
        self.each(|l| {
            if matches!(l.kind, Kind::Reconnect) {
                call_listener(&l.f, &o, &JsValue::UNDEFINED);
            }
        });
    }
}

/// Returned by `on…()` inside the unsubscribe function; `off()` removes the listener.
#[wasm_bindgen(skip_typescript)]
pub struct Subscription {
    handler: Weak<JsHandler>,
    id: u32,
}

#[wasm_bindgen]
impl Subscription {
    /// Removes the listener (idempotent).
    pub fn off(&self) {
        if let Some(h) = self.handler.upgrade() {
            h.remove(self.id);
        }
    }
}

/// The async iterator of a stream's events (`for await (const e of stream)`). Leaving the
/// loop (`return()`) closes the stream; a fatal error rejects `next()`.
#[wasm_bindgen(skip_typescript)]
pub struct EventIterator {
    handler: Rc<JsHandler>,
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl EventIterator {
    /// The next event, or `{ done: true }` once the stream is closed.
    pub fn next(&self) -> Promise {
        let mut guard = self.handler.iter.borrow_mut();
        let it = guard.get_or_insert_with(IterState::default);
        if let Some(v) = it.buffer.pop_front() {
            return Promise::resolve(&JsValue::from(iter_result(false, &v)));
        }
        if it.done {
            return match &it.failure {
                Some(e) => Promise::reject(e),
                None => Promise::resolve(&JsValue::from(iter_result(true, &JsValue::UNDEFINED))),
            };
        }
        let mut slot = None;
        let p = Promise::new(&mut |resolve, reject| slot = Some((resolve, reject)));
        it.waiting = slot;
        p
    }

    /// Leaves the loop: closes the stream.
    #[wasm_bindgen(js_name = "return")]
    pub fn return_(&self) -> Promise {
        self.handler.user_closed.set(true);
        self.shared.close();
        Promise::resolve(&JsValue::from(iter_result(true, &JsValue::UNDEFINED)))
    }
}

macro_rules! stream_class {
    ($name:ident, $thread:expr, $doc:literal) => {
        #[doc = $doc]
        #[wasm_bindgen(skip_typescript)]
        pub struct $name {
            shared: Rc<Shared>,
            handler: Rc<JsHandler>,
        }

        #[wasm_bindgen]
        impl $name {
            /// Validates the options (throwing a `ThreadtailError` of kind `invalid_argument`)
            /// and starts streaming.
            #[wasm_bindgen(constructor)]
            pub fn new(options: JsValue) -> Result<$name, JsValue> {
                let config = stream_config(&options, $thread)?;
                let handler = Rc::new(JsHandler::default());
                let shared = Shared::start(config, handler.clone()).map_err(|e| to_js(&e))?;
                Ok($name { shared, handler })
            }

            fn subscribe(&self, kind: Kind, f: Function) -> Function {
                let id = self.handler.add(kind, f);
                make_off(
                    &Subscription {
                        handler: Rc::downgrade(&self.handler),
                        id,
                    }
                    .into(),
                    id,
                )
            }

            /// Listens to one event type; returns a function that removes the listener.
            pub fn on(&self, event_type: String, listener: Function) -> Function {
                self.subscribe(Kind::Type(event_type), listener)
            }

            /// Listens to every event.
            #[wasm_bindgen(js_name = onEvent)]
            pub fn on_event(&self, listener: Function) -> Function {
                self.subscribe(Kind::AnyEvent, listener)
            }

            /// Listens to errors (`ThreadtailError`).
            #[wasm_bindgen(js_name = onError)]
            pub fn on_error(&self, listener: Function) -> Function {
                self.subscribe(Kind::Error, listener)
            }

            /// Listens to state changes.
            #[wasm_bindgen(js_name = onStateChange)]
            pub fn on_state_change(&self, listener: Function) -> Function {
                self.subscribe(Kind::State, listener)
            }

            /// Listens to scheduled reconnects (`{ attempt, delayMs, reason }`).
            #[wasm_bindgen(js_name = onReconnect)]
            pub fn on_reconnect(&self, listener: Function) -> Function {
                self.subscribe(Kind::Reconnect, listener)
            }

            /// The id of the last event delivered: the resume point.
            #[wasm_bindgen(getter, js_name = lastEventId)]
            pub fn last_event_id(&self) -> String {
                self.shared.last_event_id()
            }

            /// `"connecting"`, `"open"`, `"reconnecting"` or `"closed"`.
            #[wasm_bindgen(getter)]
            pub fn state(&self) -> String {
                self.shared.state().as_str().to_owned()
            }

            /// How many reconnects were scheduled so far.
            #[wasm_bindgen(getter)]
            pub fn reconnects(&self) -> u32 {
                self.shared.reconnects()
            }

            /// Closes the stream: idempotent; cancels the fetch, the reader and any timer.
            pub fn close(&self) {
                self.handler.user_closed.set(true);
                self.shared.close();
            }

            /// The async iterator behind `for await (const e of stream)`.
            pub fn events(&self) -> EventIterator {
                self.handler
                    .iter
                    .borrow_mut()
                    .get_or_insert_with(IterState::default);
                EventIterator {
                    handler: self.handler.clone(),
                    shared: self.shared.clone(),
                }
            }
        }
    };
}

stream_class!(
    ThreadStream,
    true,
    "Follows one thread: `GET {baseUrl}/sessions/{sessionId}/threads/{threadId}/stream`."
);
stream_class!(
    SessionStream,
    false,
    "Follows every thread of a session: `GET {baseUrl}/sessions/{sessionId}/events/stream`."
);
