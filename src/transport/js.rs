//! The Rust side of the helpers of `src/js/glue.js` (declared in `glue.rs`): error positions
//! and bodies, list pages, chunks.

use crate::glue::{chunk_bytes, json_error_position, parse_api_error, parse_page_js};
use wasm_bindgen::prelude::*;

/// A decode error for an event whose data `JSON.parse` refused (or that is not an object),
/// with the line and column the engine reported. Computed only on the error path.
pub(crate) fn decode_error(
    event_type: &str,
    event_id: Option<String>,
    data: &str,
    not_object: bool,
) -> crate::error::DecodeError {
    let (line, column, reason) = if not_object {
        (0, 0, String::from("the data is JSON but not an object"))
    } else {
        let pos = json_error_position(data);
        (
            pos.first().copied().unwrap_or(0) as usize,
            pos.get(1).copied().unwrap_or(0) as usize,
            String::from("the data is not valid JSON"),
        )
    };
    crate::error::DecodeError {
        event_id,
        event_type: event_type.to_owned(),
        line,
        column,
        reason,
        raw: data.to_owned(),
    }
}

/// Reads an API error body with `JSON.parse` (keeps a JSON parser out of the wasm).
pub(crate) fn api_error(text: &str) -> Option<crate::error::ApiError> {
    let v = parse_api_error(text);
    if v.is_undefined() {
        return None;
    }
    let a = js_sys::Array::from(&v);
    Some(crate::error::ApiError {
        error_type: a.get(0).as_string(),
        message: a.get(1).as_string(),
        request_id: a.get(2).as_string(),
        param: a.get(3).as_string(),
    })
}

/// An event's data as the client serialises a listed event (`JSON.stringify` of the parse), to
/// compare a streamed copy with a REST listing whatever the server's formatting; `None` when
/// it is not JSON.
pub(crate) fn canonical_json(data: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(data).ok()?;
    let value = js_sys::JSON::parse(text).ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}

/// A list page as (items, next page cursor), or `None` when the text is not one.
pub(crate) fn parse_page(text: &str) -> Option<(js_sys::Array, Option<String>)> {
    let v = parse_page_js(text);
    if v.is_undefined() {
        return None;
    }
    let a = js_sys::Array::from(&v);
    Some((js_sys::Array::from(&a.get(0)), a.get(1).as_string()))
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

/// Copies a chunk (see `chunk_bytes`) into `buf`, reusing its allocation. Returns false when
/// the value is not a chunk.
pub(crate) fn copy_chunk(value: &JsValue, buf: &mut Vec<u8>) -> bool {
    let bytes = chunk_bytes(value);
    if bytes.is_undefined() {
        return false;
    }
    let bytes: js_sys::Uint8Array = bytes.unchecked_into();
    let len = bytes.length() as usize;
    buf.resize(len, 0);
    bytes.copy_to(&mut buf[..len]);
    true
}
