//! `ThreadStream` and `SessionStream` for JavaScript: typed callbacks, `for await`, `close()`.
//!
//! The listeners and the `for await` queue live in a small JavaScript `Dispatcher`
//! (`glue.js`); Rust decides what is delivered and hands each chunk's events over in one call.

use super::error::to_js;
use super::options::stream_config;
use crate::boundary::{Batch, BatchHeader};
use crate::client::{Flushed, Handler, ReconnectInfo, Shared};
use crate::error::Error;
use crate::glue::Dispatcher;
use crate::request::Target;
use crate::resume::State;
use crate::sse::EventRef;
use crate::transport::js::decode_error;
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// Forwards a stream's events and lifecycle to its JavaScript dispatcher.
struct JsHandler {
    dispatcher: Dispatcher,
    batch: RefCell<Batch>,
    /// The latest error that may have ended the stream, for the iterator.
    last_error: RefCell<Option<JsValue>>,
    user_closed: Cell<bool>,
    /// The stream's secrets (see `Shared::secrets`), set once the stream starts.
    secrets: RefCell<Rc<RefCell<Vec<String>>>>,
    _on_decode_error: Closure<dyn FnMut(String, Option<String>, String, bool)>,
}

impl JsHandler {
    fn new(target: &Target) -> Rc<JsHandler> {
        let terminal: Array = target
            .terminal_types()
            .iter()
            .map(|t| JsValue::from_str(t))
            .collect();
        Rc::new_cyclic(|weak: &Weak<JsHandler>| {
            let weak = weak.clone();
            let on_decode_error = Closure::<dyn FnMut(String, Option<String>, String, bool)>::new(
                move |event_type: String, id: Option<String>, data: String, not_object: bool| {
                    if let Some(h) = weak.upgrade() {
                        let d = decode_error(&event_type, id, &data, not_object);
                        h.error(&Error::Decode(Box::new(d)));
                    }
                },
            );
            let dispatcher = Dispatcher::new(
                terminal,
                on_decode_error.as_ref().unchecked_ref(),
                &wasm_bindgen::memory(),
                BatchHeader::LAYOUT,
            );
            JsHandler {
                batch: RefCell::new(Batch::for_stream(dispatcher.decode_each())),
                dispatcher,
                last_error: RefCell::new(None),
                user_closed: Cell::new(false),
                secrets: RefCell::new(Rc::default()),
                _on_decode_error: on_decode_error,
            }
        })
    }
}

impl Handler for JsHandler {
    fn event(&self, event: EventRef<'_>, update: bool) {
        self.batch.borrow_mut().push(event, update);
    }

    fn flush(&self) -> Flushed {
        if self.batch.borrow().is_empty() {
            return Flushed::default();
        }
        let header = self.batch.borrow_mut().header();
        // Only a shared borrow is held while listeners run: they may call `close()`, and
        // nothing adds to the batch meanwhile.
        let batch = self.batch.borrow();
        let handed = self.dispatcher.deliver(header);
        let flushed = Flushed {
            stop: self.dispatcher.stopped(),
            handed: Some(handed as usize),
        };
        drop(batch);
        self.batch.borrow_mut().clear();
        flushed
    }

    fn buffers(&self) -> bool {
        true
    }

    fn handing(&self) -> Option<usize> {
        usize::try_from(self.dispatcher.handled()).ok()
    }

    fn error(&self, error: &Error) {
        let redacted;
        let error = {
            let secrets = self.secrets.borrow();
            let secrets = secrets.borrow();
            if secrets.is_empty() || !matches!(error, Error::Decode(_)) {
                error
            } else {
                // Decode errors come from JavaScript, not through the stream's report (which
                // redacts every other error): their raw text too is kept free of secrets.
                let mut e = error.clone();
                e.redact(&secrets);
                redacted = e;
                &redacted
            }
        };
        let value = to_js(error);
        if !matches!(error, Error::Decode(_) | Error::TooLarge { .. }) {
            *self.last_error.borrow_mut() = Some(value.clone());
        }
        self.dispatcher.emit("error", &value);
    }

    fn state(&self, state: State) {
        if state == State::Open {
            self.last_error.borrow_mut().take();
        }
        self.dispatcher
            .emit("state", &JsValue::from_str(state.as_str()));
        if state == State::Closed {
            let failure = if self.user_closed.get() {
                None
            } else {
                self.last_error.borrow().clone()
            };
            self.dispatcher.end(&failure.unwrap_or(JsValue::UNDEFINED));
        }
    }

    fn reconnect(&self, info: &ReconnectInfo) {
        let o = Object::new();
        let _ = Reflect::set(&o, &"attempt".into(), &JsValue::from(info.attempt));
        let _ = Reflect::set(&o, &"delayMs".into(), &JsValue::from(info.delay_ms as f64));
        let _ = Reflect::set(&o, &"reason".into(), &JsValue::from_str(&info.reason));
        self.dispatcher.emit("reconnect", &o);
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
        self.handler.dispatcher.next()
    }

    /// Leaves the loop: closes the stream.
    #[wasm_bindgen(js_name = "return")]
    pub fn return_(&self) -> Promise {
        self.handler.user_closed.set(true);
        self.shared.close();
        self.handler.dispatcher.next()
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
                let handler = JsHandler::new(&config.target);
                let shared = Shared::start(config, handler.clone()).map_err(|e| to_js(&e))?;
                *handler.secrets.borrow_mut() = shared.secrets();
                Ok($name { shared, handler })
            }

            /// Listens to one event type; returns a function that removes the listener.
            pub fn on(&self, event_type: String, listener: Function) -> Function {
                self.handler
                    .dispatcher
                    .add("type", Some(event_type), listener)
            }

            /// Listens to every event.
            #[wasm_bindgen(js_name = onEvent)]
            pub fn on_event(&self, listener: Function) -> Function {
                self.handler.dispatcher.add("any", None, listener)
            }

            /// Listens to errors (`ThreadtailError`).
            #[wasm_bindgen(js_name = onError)]
            pub fn on_error(&self, listener: Function) -> Function {
                self.handler.dispatcher.add("error", None, listener)
            }

            /// Listens to state changes.
            #[wasm_bindgen(js_name = onStateChange)]
            pub fn on_state_change(&self, listener: Function) -> Function {
                self.handler.dispatcher.add("state", None, listener)
            }

            /// Listens to scheduled reconnects (`{ attempt, delayMs, reason }`).
            #[wasm_bindgen(js_name = onReconnect)]
            pub fn on_reconnect(&self, listener: Function) -> Function {
                self.handler.dispatcher.add("reconnect", None, listener)
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
                self.handler.dispatcher.iterate();
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
