//! From an SSE frame (`event:`, `id:`, `data:`) to an [`Event`], and the type predicates the
//! stream needs.

use serde_json::Value;

use super::event::Event;
use crate::error::DecodeError;

/// The SSE event name of a block without an `event:` line (WHATWG HTML, "dispatch the event":
/// the type defaults to `message`).
const DEFAULT_SSE_TYPE: &str = "message";

/// Decodes one SSE event's `data` into an [`Event`].
///
/// `sse_event_type` is the frame's `event:` name and `sse_id` its `id:`; they fill `type` and
/// `id` when the JSON lacks them. Unknown types, unknown fields and fields of an unexpected
/// JSON type are kept (see [`Event`]); the only errors are a `data` that is not valid JSON and
/// one that is valid JSON but not an object. The error names the event, the position (for a
/// syntax error) and keeps the raw text.
pub fn decode(
    sse_event_type: &str,
    sse_id: Option<&str>,
    data: &str,
) -> Result<Event, DecodeError> {
    let sse_event_type = sse_type_or_default(sse_event_type);
    match serde_json::from_str::<Value>(data) {
        Ok(Value::Object(map)) => Ok(Event::from_object(map, sse_event_type, sse_id)),
        Ok(other) => Err(DecodeError {
            event_id: sse_id.map(str::to_owned),
            event_type: sse_event_type.to_owned(),
            line: 0,
            column: 0,
            reason: format!("expected a JSON object, found {}", json_kind(&other)),
            raw: data.to_owned(),
        }),
        Err(error) => Err(syntax_error(sse_event_type, sse_id, data, &error)),
    }
}

/// Builds the [`DecodeError`] for a `data` that some other parser (JavaScript's `JSON.parse`)
/// refused, with `reason` as that parser's message.
///
/// The line and column are computed with `serde_json` here, on the error path only; when
/// `serde_json` accepts the text (the other parser was stricter, or the text is valid JSON but
/// not an object) they are 0. An empty `reason` is replaced by `serde_json`'s own.
pub fn decode_error(
    sse_event_type: &str,
    sse_id: Option<&str>,
    data: &str,
    reason: &str,
) -> DecodeError {
    let sse_event_type = sse_type_or_default(sse_event_type);
    let (line, column, own_reason) = match serde_json::from_str::<serde::de::IgnoredAny>(data) {
        Ok(_) => (0, 0, String::from("not a JSON object")),
        Err(error) => (error.line(), error.column(), message_of(&error)),
    };
    DecodeError {
        event_id: sse_id.map(str::to_owned),
        event_type: sse_event_type.to_owned(),
        line,
        column,
        reason: if reason.is_empty() {
            own_reason
        } else {
            reason.to_owned()
        },
        raw: data.to_owned(),
    }
}

/// The event types that end a thread stream: the thread's termination and the session's
/// deletion. The one list of them: the client, the JavaScript dispatcher and the Rust API read it.
pub const THREAD_TERMINAL_TYPES: &[&str] = &["session.thread_status_terminated", "session.deleted"];

/// The event types that end a session stream: only the session's deletion (its threads end
/// one by one while the session goes on).
pub const SESSION_TERMINAL_TYPES: &[&str] = &["session.deleted"];

/// Whether events of this type end a thread stream (see [`THREAD_TERMINAL_TYPES`]).
pub fn is_terminal_type(event_type: &str) -> bool {
    THREAD_TERMINAL_TYPES.contains(&event_type)
}

/// Whether an SSE event of this name is a keep-alive (`event: ping`) rather than an
/// application event; such frames are not decoded nor delivered.
pub fn is_keepalive_type(sse_event_type: &str) -> bool {
    sse_event_type == "ping"
}

fn sse_type_or_default(sse_event_type: &str) -> &str {
    if sse_event_type.is_empty() {
        DEFAULT_SSE_TYPE
    } else {
        sse_event_type
    }
}

fn syntax_error(
    sse_event_type: &str,
    sse_id: Option<&str>,
    data: &str,
    error: &serde_json::Error,
) -> DecodeError {
    DecodeError {
        event_id: sse_id.map(str::to_owned),
        event_type: sse_event_type.to_owned(),
        line: error.line(),
        column: error.column(),
        reason: message_of(error),
        raw: data.to_owned(),
    }
}

/// `serde_json`'s message without its " at line L column C" suffix: [`DecodeError`] carries
/// the position in its own fields.
fn message_of(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match full.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => full,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
