//! The one reader of options objects: `ThreadStream`, `SessionStream`, the list functions and
//! `SseParser` read theirs with these functions, so that a value is accepted, or refused with
//! the same `invalid_argument` message, whichever entry point it is given to.
//!
//! Hand-written rather than `serde-wasm-bindgen` into serde structs, for size: deserializing
//! only the stream's plain fields (strings, numbers, booleans, `retry`) that way, with every
//! function-valued option still read here, made the wasm 36.7 KB larger (223,124 -> 259,791
//! bytes; the default entry 100.7 -> 116.4 KB gzipped), measured on this crate.

use super::error::invalid;
use crate::client::{History, StreamConfig, Token, TokenFuture, TransportKind};
use crate::glue::{call_token_provider, field, header_pairs};
use crate::request::Target;
use crate::resume::RetryOptions;
use crate::transport::js::describe;
use js_sys::{Array, Function, Reflect};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

fn get(options: &JsValue, name: &str) -> Option<JsValue> {
    let v = field(options, name);
    (!v.is_undefined() && !v.is_null()).then_some(v)
}

pub(crate) fn string(
    options: &JsValue,
    name: &'static str,
    required: bool,
) -> Result<Option<String>, JsValue> {
    match get(options, name) {
        None if required => Err(invalid(name, "is required")),
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| invalid(name, "must be a string")),
    }
}

/// An optional number no smaller than `min` (`Infinity` included). `min` is a whole number:
/// formatting it as an integer keeps the float printer (14 KB of wasm) out of the package.
pub(crate) fn number_at_least(
    options: &JsValue,
    name: &'static str,
    min: u32,
) -> Result<Option<f64>, JsValue> {
    match get(options, name) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            // NaN compares false: refused.
            Some(n) if n >= f64::from(min) => Ok(Some(n)),
            _ => Err(invalid(
                name,
                format!("must be a number no smaller than {min}"),
            )),
        },
    }
}

/// An optional whole count (bytes, attempts) no smaller than `min`; `Infinity` and anything
/// beyond `usize` saturate.
pub(crate) fn count_at_least(
    options: &JsValue,
    name: &'static str,
    min: u32,
) -> Result<Option<usize>, JsValue> {
    Ok(number_at_least(options, name, min)?.map(|n| n.min(usize::MAX as f64) as usize))
}

fn millis(options: &JsValue, name: &'static str) -> Result<Option<u64>, JsValue> {
    Ok(number_at_least(options, name, 0)?.map(|n| if n.is_finite() { n as u64 } else { u64::MAX }))
}

/// An optional function.
pub(crate) fn function(options: &JsValue, name: &'static str) -> Result<Option<Function>, JsValue> {
    match get(options, name) {
        None => Ok(None),
        Some(f) => f
            .dyn_into()
            .map(Some)
            .map_err(|_| invalid(name, "must be a function")),
    }
}

pub(crate) fn strings(options: &JsValue, name: &'static str) -> Result<Vec<String>, JsValue> {
    match get(options, name) {
        None => Ok(Vec::new()),
        Some(v) => {
            if let Some(s) = v.as_string() {
                return Ok(s
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect());
            }
            if !Array::is_array(&v) {
                return Err(invalid(name, "must be an array of strings"));
            }
            Array::from(&v)
                .iter()
                .map(|t| {
                    t.as_string()
                        .ok_or_else(|| invalid(name, "must be an array of strings"))
                })
                .collect()
        }
    }
}

pub(crate) fn headers(options: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    match get(options, "headers") {
        None => Ok(Vec::new()),
        Some(h) => {
            let pairs = header_pairs(&h).map_err(|e| invalid("headers", describe(&e)))?;
            pairs
                .iter()
                .map(|p| {
                    let p = Array::from(&p);
                    match (p.get(0).as_string(), p.get(1).as_string()) {
                        (Some(k), Some(v)) => Ok((k, v)),
                        _ => Err(invalid("headers", "must map header names to string values")),
                    }
                })
                .collect()
        }
    }
}

pub(crate) fn token(options: &JsValue) -> Result<Token, JsValue> {
    match get(options, "token") {
        None => Ok(Token::None),
        Some(v) => {
            if let Some(s) = v.as_string() {
                return Ok(Token::Static(s));
            }
            let f: Function = v.dyn_into().map_err(|_| {
                invalid(
                    "token",
                    "must be a string or a function returning a string (or a promise of one)",
                )
            })?;
            Ok(Token::Provider(Rc::new(
                move |refresh: bool| -> TokenFuture {
                    let p = call_token_provider(&f, refresh);
                    Box::pin(async move {
                        match JsFuture::from(p).await {
                            Ok(v) => v
                                .as_string()
                                .ok_or_else(|| String::from("it did not return a string")),
                            Err(e) => Err(describe(&e)),
                        }
                    })
                },
            )))
        }
    }
}

fn retry(options: &JsValue) -> Result<RetryOptions, JsValue> {
    let mut r = RetryOptions::default();
    let Some(o) = get(options, "retry") else {
        return Ok(r);
    };
    if !o.is_object() {
        return Err(invalid("retry", "must be an object"));
    }
    if let Some(v) = millis(&o, "initialDelayMs")? {
        r.initial_delay_ms = v;
    }
    if let Some(v) = millis(&o, "maxDelayMs")? {
        r.max_delay_ms = v;
    }
    if let Some(v) = number_at_least(&o, "maxAttempts", 0)? {
        r.max_attempts = v.is_finite().then_some(v.min(f64::from(u32::MAX)) as u32);
    }
    if let Some(v) = millis(&o, "minDelayMs")? {
        r.min_delay_ms = v;
    }
    if let Some(v) = millis(&o, "healthyAfterMs")? {
        r.healthy_after_ms = v;
    }
    Ok(r)
}

/// Reads the options of a stream.
pub(crate) fn stream_config(options: &JsValue, thread: bool) -> Result<StreamConfig, JsValue> {
    if !options.is_object() {
        return Err(invalid(
            "options",
            "pass an object such as { baseUrl, sessionId, threadId, token }",
        ));
    }
    let base_url = string(options, "baseUrl", true)?.unwrap_or_default();
    let session_id = string(options, "sessionId", true)?.unwrap_or_default();
    let target = if thread {
        Target::Thread {
            session_id,
            thread_id: string(options, "threadId", true)?.unwrap_or_default(),
        }
    } else {
        Target::Session { session_id }
    };
    let mut c = StreamConfig::new(base_url, target, token(options)?);
    c.headers = headers(options)?;
    c.types = strings(options, "types")?;
    c.last_event_id = string(options, "lastEventId", false)?.filter(|s| !s.is_empty());
    c.retry = retry(options)?;
    if let Some(ms) = millis(options, "idleTimeoutMs")? {
        c.idle_timeout_ms = (ms > 0 && ms != u64::MAX).then_some(ms);
    }
    // At least one byte, as for `SseParser`: no event fits in zero.
    if let Some(n) = count_at_least(options, "maxEventBytes", 1)? {
        c.max_event_bytes = n;
    }
    c.fetch = function(options, "fetch")?;
    c.transport = match string(options, "transport", false)?.as_deref() {
        None | Some("fetch") => TransportKind::Fetch,
        Some("eventsource") => TransportKind::EventSource,
        Some(_) => return Err(invalid("transport", "must be \"fetch\" or \"eventsource\"")),
    };
    c.history = match string(options, "history", false)?.as_deref() {
        None | Some("server") => History::Server,
        Some("backfill") => History::Backfill,
        Some("none") => History::None,
        Some(_) => {
            return Err(invalid(
                "history",
                "must be \"server\", \"backfill\" or \"none\"",
            ))
        }
    };
    c.with_credentials = get(options, "withCredentials")
        .map(|v| v.is_truthy())
        .unwrap_or(false);
    c.ordered_ids = get(options, "orderedIds")
        .map(|v| v.is_truthy())
        .unwrap_or(false);
    if let Some(s) = get(options, "signal") {
        let is_signal = Reflect::has(&s, &JsValue::from_str("aborted")).unwrap_or(false);
        if !is_signal {
            return Err(invalid("signal", "must be an AbortSignal"));
        }
        c.signal = Some(s.unchecked_into());
    }
    Ok(c)
}
