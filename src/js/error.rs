//! `Error` to `ThreadtailError` (a real `Error` subclass with `kind`, `status`, …).

use crate::error::Error;
use crate::glue::make_error;
use wasm_bindgen::JsValue;

/// Converts an error for JavaScript. The message never contains a token.
pub(crate) fn to_js(error: &Error) -> JsValue {
    let api = error.api();
    let decode = match error {
        Error::Decode(d) => Some(d),
        _ => None,
    };
    make_error(
        &error.to_string(),
        error.kind().as_str(),
        error.retryable(),
        error.status(),
        api.and_then(|a| a.error_type.clone()),
        api.and_then(|a| a.message.clone()),
        api.and_then(|a| a.request_id.clone()),
        decode.and_then(|d| d.event_id.clone()),
        decode.map(|d| d.event_type.clone()),
        decode.map(|d| d.raw.clone()),
        decode.map(|d| d.line as u32),
        decode.map(|d| d.column as u32),
    )
}

/// An `invalid_argument` error for JavaScript.
pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> JsValue {
    to_js(&Error::InvalidArgument {
        field,
        message: message.into(),
    })
}
