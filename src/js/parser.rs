//! `SseParser` for JavaScript: the WHATWG parser over any byte source.

use super::error::{invalid, to_js};
use super::options::{count_at_least, function, string};
use crate::boundary::{Batch, BatchHeader};
use crate::error::Error;
use crate::glue::{call_listener, BatchReader};
use crate::sse::{EventRef, Parser, Sink, DEFAULT_MAX_EVENT_BYTES};
use crate::transport::js::copy_chunk;
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
    batch: Batch,
    reader: BatchReader,
}

/// One push's events go to the batch (see `boundary.rs`), for one crossing into JavaScript;
/// comments go straight to `onComment`, errors are reported after the events.
struct PushSink<'a> {
    batch: &'a mut Batch,
    on_comment: Option<&'a Function>,
    errors: Vec<Error>,
}

impl Sink for PushSink<'_> {
    fn on_event(&mut self, e: EventRef<'_>) {
        self.batch.push(e, false);
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
            // No stream can set such a value, and a CR would break the batch's framing
            // (boundary.rs).
            if crate::resume::has_line_break_or_nul(&id) {
                return Err(invalid("lastEventId", "contains a line break or NUL"));
            }
            parser.set_last_event_id(&id);
        }
        let reader = BatchReader::new(&wasm_bindgen::memory(), BatchHeader::LAYOUT);
        Ok(SseParser {
            parser,
            on_comment: function(&options, "onComment")?,
            on_error: function(&options, "onError")?,
            buf: Vec::new(),
            batch: Batch::for_parser(reader.each()),
            reader,
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
        let mut sink = PushSink {
            batch: &mut self.batch,
            on_comment: self.on_comment.as_ref(),
            errors: Vec::new(),
        };
        self.parser.push(&self.buf, &mut sink);
        let errors = sink.errors;
        let events = if self.batch.is_empty() {
            Array::new()
        } else {
            self.reader.sse_events(self.batch.header())
        };
        if let Some(first) = errors.first() {
            match &self.on_error {
                Some(f) => {
                    for e in &errors {
                        call_listener(f, &to_js(e), &JsValue::UNDEFINED);
                    }
                }
                None => {
                    let err = to_js(first);
                    let _ = Reflect::set(&err, &JsValue::from_str("events"), &events);
                    return Err(err);
                }
            }
        }
        Ok(events)
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
