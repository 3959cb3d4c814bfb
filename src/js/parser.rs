//! `SseParser` for JavaScript: the WHATWG parser over any byte source.

use super::error::{invalid, to_js};
use super::options::{count_at_least, function, string};
use super::ReusedBytes;
use crate::boundary::{FLAG_HAS_ID, FLAG_LAST_ID_IS_ID, FLAG_WIDE_DATA};
use crate::error::Error;
use crate::glue::{build_events, call_listener, decodes_each};
use crate::sse::{EventRef, Parser, Sink, DEFAULT_MAX_EVENT_BYTES};
use crate::transport::js::copy_chunk;
use crate::utf16;
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;

/// A push-based `text/event-stream` parser: `push(chunk)` returns the events completed by the
/// chunk. Comments go to `onComment`; an oversized event goes to `onError`, or (without one)
/// is thrown as a `ThreadtailError` of kind `too_large` carrying the chunk's other events in
/// `events`, and the next `push` goes on parsing.
#[wasm_bindgen(skip_typescript)]
pub struct SseParser {
    parser: Parser,
    on_comment: Option<Function>,
    on_error: Option<Function>,
    buf: Vec<u8>,
    batch: Vec<u8>,
    flags: Vec<u8>,
    /// UTF-16 data, in Node only (see `Batch` in `stream.rs`).
    wide: Option<ReusedBytes>,
    ends: Vec<u32>,
}

/// Collects one push's events for one crossing into JavaScript: type, id, data and last
/// event id as UTF-8, each followed by CR (which never occurs in an SSE field), and a flag
/// byte per event. With `wide` (Node), data that is valid UTF-8 but not ASCII goes there as
/// UTF-16LE instead (`FLAG_WIDE_DATA`; its own part is empty), ending where `ends` says.
struct BatchSink<'a> {
    batch: &'a mut Vec<u8>,
    flags: &'a mut Vec<u8>,
    wide: Option<&'a mut ReusedBytes>,
    ends: &'a mut Vec<u32>,
    on_comment: Option<&'a Function>,
    errors: Vec<Error>,
}

impl BatchSink<'_> {
    /// Pushes `data` to `wide`, if there is one and it is valid UTF-8 but not ASCII.
    fn push_wide(&mut self, data: &[u8]) -> bool {
        let Some(wide) = self.wide.as_deref_mut() else {
            return false;
        };
        if data.is_ascii() {
            return false;
        }
        let Some(end) = wide.push_utf16(data, utf16::transcode) else {
            return false;
        };
        self.ends.push(end);
        true
    }

    fn push(&mut self, part: &[u8]) {
        self.batch.extend_from_slice(part);
        self.batch.push(b'\r');
    }
}

impl Sink for BatchSink<'_> {
    fn on_event(&mut self, e: EventRef<'_>) {
        self.push(e.event_type.as_bytes());
        self.push(e.id.unwrap_or("").as_bytes());
        let wide = self.push_wide(e.data_bytes);
        self.push(if wide { b"" } else { e.data_bytes });
        let same = e.id == Some(e.last_event_id);
        self.push(if same {
            b""
        } else {
            e.last_event_id.as_bytes()
        });
        let mut flags = 0;
        if e.id.is_some() {
            flags |= FLAG_HAS_ID;
        }
        if same {
            flags |= FLAG_LAST_ID_IS_ID;
        }
        if wide {
            flags |= FLAG_WIDE_DATA;
        }
        // The flags are below 256 (a test in boundary.rs): one byte each.
        self.flags.push(flags as u8);
    }
    fn on_comment(&mut self, text: &str) {
        if let Some(f) = self.on_comment {
            call_listener(f, &JsValue::from_str(text), &JsValue::UNDEFINED);
        }
    }
    fn on_error(&mut self, error: Error) {
        self.errors.push(error);
    }
}

/// What one `push` produced: its events for JavaScript, and the errors to report after them.
struct PushedEvents {
    events: Array,
    errors: Vec<Error>,
}

#[wasm_bindgen]
impl SseParser {
    /// `new SseParser({ maxEventBytes?, onComment?, onError?, lastEventId? })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<SseParser, JsValue> {
        if !options.is_object() && !options.is_undefined() && !options.is_null() {
            return Err(invalid("options", "must be an object"));
        }
        let max = count_at_least(&options, "maxEventBytes", 1)?.unwrap_or(DEFAULT_MAX_EVENT_BYTES);
        let mut parser = Parser::with_max_event_bytes(max);
        if let Some(id) = string(&options, "lastEventId", false)? {
            parser.set_last_event_id(&id);
        }
        Ok(SseParser {
            parser,
            on_comment: function(&options, "onComment")?,
            on_error: function(&options, "onError")?,
            buf: Vec::new(),
            batch: Vec::new(),
            flags: Vec::new(),
            wide: decodes_each().then(ReusedBytes::default),
            ends: Vec::new(),
        })
    }

    /// Feeds a chunk (`Uint8Array` or any other view, `ArrayBuffer`, or a string); returns
    /// the completed events.
    pub fn push(&mut self, chunk: JsValue) -> Result<Array, JsValue> {
        if !copy_chunk(&chunk, &mut self.buf) {
            return Err(invalid(
                "chunk",
                "must be a Uint8Array (or another ArrayBuffer view), an ArrayBuffer or a string",
            ));
        }
        self.batch.clear();
        self.flags.clear();
        self.ends.clear();
        if let Some(wide) = &mut self.wide {
            wide.clear();
        }
        let mut sink = BatchSink {
            batch: &mut self.batch,
            flags: &mut self.flags,
            wide: self.wide.as_mut(),
            ends: &mut self.ends,
            on_comment: self.on_comment.as_ref(),
            errors: Vec::new(),
        };
        self.parser.push(&self.buf, &mut sink);
        let errors = sink.errors;
        let events = if self.flags.is_empty() {
            Array::new()
        } else {
            let wide = self.wide.as_ref().map_or(&[][..], ReusedBytes::content);
            build_events(&self.batch, &self.flags, wide, &self.ends)
        };
        let sink = PushedEvents { events, errors };
        if let Some(first) = sink.errors.first() {
            match &self.on_error {
                Some(f) => {
                    for e in &sink.errors {
                        call_listener(f, &to_js(e), &JsValue::UNDEFINED);
                    }
                }
                None => {
                    let err = to_js(first);
                    let _ = Reflect::set(&err, &JsValue::from_str("events"), &sink.events);
                    return Err(err);
                }
            }
        }
        Ok(sink.events)
    }

    /// The end of the stream: an unterminated event is discarded. The parser can then read a
    /// new stream.
    pub fn end(&mut self) {
        self.parser.end();
    }

    /// Before reading a reconnected stream: drops the partial event, keeps the last event ID.
    pub fn reset(&mut self) {
        self.parser.reset();
    }

    /// The last valid `retry:` value in milliseconds, or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn retry(&self) -> Option<f64> {
        self.parser.retry().map(|ms| ms as f64)
    }

    /// The last event ID string (what a reconnect sends as `Last-Event-ID`).
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.parser.last_event_id().to_owned()
    }
}
