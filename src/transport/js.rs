//! Bindings to globals and to the small JS helper module `src/js/glue.js`.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `globalThis.setTimeout`.
    #[wasm_bindgen(js_name = setTimeout)]
    pub(crate) fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    /// `globalThis.clearTimeout`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub(crate) fn clear_timeout(handle: &JsValue);
    /// `globalThis.setInterval`.
    #[wasm_bindgen(js_name = setInterval)]
    pub(crate) fn set_interval(handler: &Function, ms: f64) -> JsValue;
    /// `globalThis.clearInterval`.
    #[wasm_bindgen(js_name = clearInterval)]
    pub(crate) fn clear_interval(handle: &JsValue);
}

#[wasm_bindgen(module = "/src/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeError)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn make_error(
        message: &str,
        kind: &str,
        retryable: bool,
        status: Option<u16>,
        error_type: Option<String>,
        server_message: Option<String>,
        request_id: Option<String>,
        event_id: Option<String>,
        event_type: Option<String>,
        raw: Option<String>,
        line: Option<u32>,
        column: Option<u32>,
    ) -> JsValue;

    #[wasm_bindgen(js_name = parseEvent)]
    pub(crate) fn parse_event(data: &str, event_type: &str, id: Option<&str>) -> JsValue;

    #[wasm_bindgen(js_name = callListener)]
    pub(crate) fn call_listener(f: &Function, a: &JsValue, b: &JsValue);

    #[wasm_bindgen(js_name = ignoreRejection)]
    pub(crate) fn ignore_rejection(p: &JsValue);

    #[wasm_bindgen(js_name = makeOff)]
    pub(crate) fn make_off(stream: &JsValue, id: u32) -> Function;

    pub(crate) type Deferred;
    pub(crate) fn deferred() -> Deferred;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn promise(this: &Deferred) -> Promise;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn resolve(this: &Deferred) -> Function;

    #[wasm_bindgen(js_name = iterResult)]
    pub(crate) fn iter_result(done: bool, value: &JsValue) -> Object;

    #[wasm_bindgen(js_name = headerPairs, catch)]
    pub(crate) fn header_pairs(headers: &JsValue) -> Result<js_sys::Array, JsValue>;

    #[wasm_bindgen(js_name = globalDocument)]
    pub(crate) fn global_document() -> JsValue;

    #[wasm_bindgen(js_name = isVisible)]
    pub(crate) fn is_visible() -> bool;
}

/// The current time in milliseconds (`Date.now()`).
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A uniform random number in `[0, 1)` (`Math.random()`), for backoff jitter.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// A readable message from a thrown JS value, without anything secret in it (the values
/// thrown by fetch and streams carry no request headers).
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        let name: String = e.name().into();
        let message: String = e.message().into();
        let cause = js_sys::Reflect::get(e, &JsValue::from_str("cause"))
            .ok()
            .filter(|c| !c.is_undefined() && !c.is_null())
            .map(|c| describe(&c));
        return match cause {
            Some(c) if !c.is_empty() => format!("{name}: {message} ({c})"),
            _ => format!("{name}: {message}"),
        };
    }
    if let Some(s) = value.as_string() {
        return s;
    }
    if value.is_object() {
        if let Ok(code) = js_sys::Reflect::get(value, &JsValue::from_str("code")) {
            if let Some(code) = code.as_string() {
                return code;
            }
        }
    }
    String::from("unknown error")
}
