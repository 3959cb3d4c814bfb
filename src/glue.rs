//! The JavaScript side of the boundary: every function and class of `src/js/glue.js` that
//! Rust calls, declared once, in the order of that file's concerns. (One `#[wasm_bindgen]`
//! block for the module: wasm-bindgen writes one `import` of it into its glue.) What crosses
//! in the batches is in `boundary.rs`.

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/js/glue.js")]
extern "C" {
    // ---- Errors, listeners, promises and small helpers (transport/js.rs) ----
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

    #[wasm_bindgen(js_name = callListener)]
    pub(crate) fn call_listener(f: &Function, a: &JsValue, b: &JsValue);

    #[wasm_bindgen(js_name = ignoreRejection)]
    pub(crate) fn ignore_rejection(p: &JsValue);

    /// A chunk as bytes (`Uint8Array`, any view, `ArrayBuffer`, string as UTF-8), or
    /// `undefined`: the one rule for what a chunk may be, for streamed bodies and
    /// `SseParser.push` alike.
    #[wasm_bindgen(js_name = chunkBytes)]
    pub(crate) fn chunk_bytes(value: &JsValue) -> JsValue;

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

    #[wasm_bindgen(js_name = jsonErrorPosition)]
    pub(crate) fn json_error_position(data: &str) -> Vec<u32>;

    #[wasm_bindgen(js_name = parseApiError)]
    pub(crate) fn parse_api_error(text: &str) -> JsValue;

    #[wasm_bindgen(js_name = parsePage)]
    pub(crate) fn parse_page_js(text: &str) -> JsValue;

    // ---- Options (js/options.rs) ----
    #[wasm_bindgen(js_name = callTokenProvider)]
    pub(crate) fn call_token_provider(f: &Function, refresh: bool) -> js_sys::Promise;
    pub(crate) fn field(options: &JsValue, name: &str) -> JsValue;

    // ---- Response bodies, read chunk by chunk (transport/fetch.rs) ----
    #[derive(Debug, Clone)]
    pub(crate) type BodyReader;
    #[wasm_bindgen(constructor)]
    pub(crate) fn new(reader: &JsValue) -> BodyReader;
    #[wasm_bindgen(method)]
    pub(crate) fn pump(
        this: &BodyReader,
        on_chunk: &Closure<dyn FnMut(Uint8Array) -> u32>,
    ) -> Promise;
    #[wasm_bindgen(method)]
    pub(crate) fn abort(this: &BodyReader);

    // ---- A stream's listeners and the delivery of its batches (js/stream.rs) ----
    pub(crate) type Dispatcher;
    #[wasm_bindgen(constructor)]
    pub(crate) fn new(
        terminal_types: Array,
        on_decode_error: &Function,
        memory: &JsValue,
        layout: &str,
    ) -> Dispatcher;
    #[wasm_bindgen(method)]
    pub(crate) fn add(
        this: &Dispatcher,
        kind: &str,
        event_type: Option<String>,
        listener: Function,
    ) -> Function;
    #[wasm_bindgen(method)]
    pub(crate) fn emit(this: &Dispatcher, kind: &str, value: &JsValue);
    /// Hands one batch (see `boundary.rs`; `header` is its header's address) to the
    /// listeners. Returns how many events were handed over; `stopped` then says whether the
    /// stream must stop reading.
    #[wasm_bindgen(method)]
    pub(crate) fn deliver(this: &Dispatcher, header: u32) -> u32;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn handled(this: &Dispatcher) -> i32;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn stopped(this: &Dispatcher) -> bool;
    #[wasm_bindgen(method, getter, js_name = decodeEach)]
    pub(crate) fn decode_each(this: &Dispatcher) -> bool;
    #[wasm_bindgen(method)]
    pub(crate) fn iterate(this: &Dispatcher);
    #[wasm_bindgen(method)]
    pub(crate) fn next(this: &Dispatcher) -> Promise;
    #[wasm_bindgen(method)]
    pub(crate) fn end(this: &Dispatcher, failure: &JsValue);

    // ---- SseParser's batches (js/parser.rs) ----
    pub(crate) type BatchReader;
    #[wasm_bindgen(constructor)]
    pub(crate) fn new(memory: &JsValue, layout: &str) -> BatchReader;
    /// Whether it decodes each event's data on its own (Node), so that data that is not
    /// ASCII is best handed over as UTF-16.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn each(this: &BatchReader) -> bool;
    /// The batch whose header is at `header`, as `SseParser.push` returns its events.
    #[wasm_bindgen(method, js_name = sseEvents)]
    pub(crate) fn sse_events(this: &BatchReader, header: u32) -> Array;
}
