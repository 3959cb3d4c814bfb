//! `SseParser` for JavaScript: the WHATWG parser over any byte source.

use super::error::{invalid, to_js};
use super::options::string;
use crate::error::Error;
use crate::sse::{EventRef, Parser, Sink, DEFAULT_MAX_EVENT_BYTES};
use crate::text::utf16_len;
use crate::transport::js::{call_listener, copy_chunk};
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/src/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = buildEvents)]
    fn build_events(text: &str, offsets: &[u32]) -> Array;
}

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
    text: String,
    offsets: Vec<u32>,
}

/// Collects one push's events as one string and five UTF-16 offsets per event, so that they
/// cross into JavaScript in one call.
struct Collect<'a> {
    text: &'a mut String,
    offsets: &'a mut Vec<u32>,
    end: u32,
    on_comment: Option<&'a Function>,
    errors: Vec<Error>,
}

impl Collect<'_> {
    fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.end += utf16_len(s);
        self.end
    }
}

impl Sink for Collect<'_> {
    fn on_event(&mut self, e: EventRef<'_>) {
        let type_end = self.push(e.event_type);
        let id_end = self.push(e.id.unwrap_or(""));
        let data_end = self.push(e.data);
        let same = e.id == Some(e.last_event_id);
        let last_end = if same {
            data_end
        } else {
            self.push(e.last_event_id)
        };
        let flags = (u32::from(e.id.is_some()) << 1) | (u32::from(same) << 2);
        self.offsets
            .extend_from_slice(&[type_end, id_end, data_end, last_end, flags]);
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

struct Collected {
    events: Array,
    errors: Vec<Error>,
}

fn callback(options: &JsValue, name: &'static str) -> Result<Option<Function>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let v = Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into()
        .map(Some)
        .map_err(|_| invalid(name, "must be a function"))
}

#[wasm_bindgen]
impl SseParser {
    /// `new SseParser({ maxEventBytes?, onComment?, onError?, lastEventId? })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<SseParser, JsValue> {
        let mut max = DEFAULT_MAX_EVENT_BYTES;
        if options.is_object() {
            let m = Reflect::get(&options, &JsValue::from_str("maxEventBytes"))
                .unwrap_or(JsValue::UNDEFINED);
            if !m.is_undefined() {
                match m.as_f64() {
                    Some(n) if n >= 1.0 => max = n.min(usize::MAX as f64) as usize,
                    _ => {
                        return Err(invalid(
                            "maxEventBytes",
                            "must be a positive number of bytes",
                        ))
                    }
                }
            }
        } else if !options.is_undefined() && !options.is_null() {
            return Err(invalid("options", "must be an object"));
        }
        let mut parser = Parser::with_max_event_bytes(max);
        if let Some(id) = string(&options, "lastEventId", false)? {
            parser.set_last_event_id(&id);
        }
        Ok(SseParser {
            parser,
            on_comment: callback(&options, "onComment")?,
            on_error: callback(&options, "onError")?,
            buf: Vec::new(),
            text: String::new(),
            offsets: Vec::new(),
        })
    }

    /// Feeds a chunk (`Uint8Array`, `ArrayBuffer` or string); returns the completed events.
    pub fn push(&mut self, chunk: JsValue) -> Result<Array, JsValue> {
        if !copy_chunk(&chunk, &mut self.buf) {
            return Err(invalid(
                "chunk",
                "must be a Uint8Array, an ArrayBuffer or a string",
            ));
        }
        self.text.clear();
        self.offsets.clear();
        let mut sink = Collect {
            text: &mut self.text,
            offsets: &mut self.offsets,
            end: 0,
            on_comment: self.on_comment.as_ref(),
            errors: Vec::new(),
        };
        self.parser.push(&self.buf, &mut sink);
        let errors = sink.errors;
        let events = if self.offsets.is_empty() {
            Array::new()
        } else {
            build_events(&self.text, &self.offsets)
        };
        let sink = Collected { events, errors };
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
