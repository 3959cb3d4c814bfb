//! Page lifecycle: `online` and the page becoming visible again end a pending backoff delay so
//! the stream reconnects now. A hidden page keeps its stream. The listeners are owned
//! (`gloo-events`) and removed when the stream closes.

use crate::glue::{global_document, is_visible};
use gloo_events::EventListener;
use js_sys::Reflect;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::EventTarget;

/// The listeners of one stream; dropping it removes them.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    _listeners: Vec<EventListener>,
}

fn as_event_target(value: JsValue) -> Option<EventTarget> {
    let has_listener_api = Reflect::get(&value, &JsValue::from_str("addEventListener"))
        .map(|f| f.is_function())
        .unwrap_or(false);
    has_listener_api.then(|| value.unchecked_into())
}

impl Lifecycle {
    /// Calls `wake` on `online` (Window and Worker globals) and when the document becomes
    /// visible. In Node there is nothing to listen to.
    pub(crate) fn new(wake: impl Fn() + 'static) -> Lifecycle {
        let wake = Rc::new(wake);
        let mut listeners = Vec::new();
        if let Some(global) = as_event_target(js_sys::global().into()) {
            let w = wake.clone();
            listeners.push(EventListener::new(&global, "online", move |_| w()));
        }
        if let Some(doc) = as_event_target(global_document()) {
            let w = wake.clone();
            listeners.push(EventListener::new(&doc, "visibilitychange", move |_| {
                if is_visible() {
                    w();
                }
            }));
        }
        Lifecycle {
            _listeners: listeners,
        }
    }
}
