// The few things that are simpler and faster on the JavaScript side of the boundary. Rust
// decides everything; these helpers only convert. Rust declares what it calls from here once,
// in src/glue.rs. Why each piece is here and not in Rust:
// - ThreadtailError, makeError: a real Error subclass with its fields, made in one call (from
//   Rust, one Reflect call per field);
// - callListener, callTokenProvider: a listener's or provider's exception caught where it is
//   thrown (wasm cannot catch a JavaScript exception without a shim per call);
// - deferred, ignoreRejection, iterResult, field, headerPairs, globalDocument, isVisible: one
//   call where Rust would need several (promise executors, iteration protocols, `typeof`);
// - jsonErrorPosition, parseApiError, parsePage: JSON.parse and the engine's own error text
//   (a JSON parser in the wasm costs tens of KB);
// - Dispatcher, BatchReader and their decoders: the hot path; each event's JSON.parse and its
//   listeners run here, one call across the boundary per batch (see src/boundary.rs);
// - chunkBytes, BodyReader: a body read in one JavaScript loop, with no Rust future per chunk.

/** The error every threadtail API reports: a real Error with a stable `kind`. */
export class ThreadtailError extends Error {
  constructor(message, props) {
    super(message);
    this.name = "ThreadtailError";
    Object.assign(this, props);
  }
}

export function makeError(message, kind, retryable, status, errorType, serverMessage, requestId, eventId, eventType, raw, line, column) {
  const props = { kind, retryable };
  if (status !== undefined) props.status = status;
  if (errorType !== undefined) props.type = errorType;
  if (serverMessage !== undefined) props.serverMessage = serverMessage;
  if (requestId !== undefined) props.requestId = requestId;
  if (eventId !== undefined) props.eventId = eventId;
  if (eventType !== undefined) props.eventType = eventType;
  if (raw !== undefined) props.raw = raw;
  if (line !== undefined) props.line = line;
  if (column !== undefined) props.column = column;
  return new ThreadtailError(message, props);
}

/**
 * Calls a listener; a listener that throws must not stop the stream, the other listeners or
 * the host. Browsers and workers report it as an uncaught error would be (`reportError`). Node
 * has no `reportError`, and rethrowing there ends the process: it becomes a process warning.
 */
export function callListener(fn, a, b) {
  try {
    fn(a, b);
  } catch (e) {
    if (typeof globalThis.reportError === "function") globalThis.reportError(e);
    else if (typeof globalThis.process?.emitWarning === "function") {
      globalThis.process.emitWarning(e instanceof Error ? e : new Error(String(e)), "ThreadtailListenerError");
    } else console.error(e);
  }
}

/** Marks a promise as handled, so that dropping it never raises an unhandled rejection. */
export function ignoreRejection(promise) {
  if (promise && typeof promise.then === "function") promise.then(undefined, () => {});
}

/** A promise and its resolve function (for sleeps that close() or `online` can end early). */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

/** `{ done, value }` for async iterators. */
export function iterResult(done, value) {
  return { done, value };
}

/** Headers given as a Headers object, an array of pairs or a record, as [name, value] pairs. */
export function headerPairs(headers) {
  if (headers == null) return [];
  // A string would otherwise turn into one header per character ("0", "1", …).
  if (typeof headers !== "object") throw new TypeError("must be a Headers object, an array of pairs or a record");
  if (typeof headers.forEach === "function" && typeof headers.get === "function") {
    const out = [];
    headers.forEach((v, k) => out.push([k, v]));
    return out;
  }
  if (Array.isArray(headers)) return headers.map(([k, v]) => [String(k), String(v)]);
  return Object.entries(headers).map(([k, v]) => [k, String(v)]);
}

/** The document, if this global has one (not in workers or Node). */
export function globalDocument() {
  return typeof document === "undefined" ? undefined : document;
}

/** Whether the document is visible (true where there is no document). */
export function isVisible() {
  return typeof document === "undefined" || document.visibilityState !== "hidden";
}


/** Calls a token provider with `{ refresh }`; always returns a promise. */
export function callTokenProvider(fn, refresh) {
  try {
    return Promise.resolve(fn({ refresh }));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** An options field, or undefined (options may be undefined). */
export function field(options, name) {
  return options == null ? undefined : options[name];
}

/**
 * Where JSON.parse failed, as [line, column] (1-based), from the engine's message: V8 says
 * "at position N" (newer versions also "(line L column C)"), SpiderMonkey "at line L column C".
 */
export function jsonErrorPosition(data) {
  try {
    JSON.parse(data);
    return [0, 0];
  } catch (e) {
    const msg = String(e && e.message);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    if (lc) return [Number(lc[1]), Number(lc[2])];
    const pos = /position (\d+)/.exec(msg);
    if (pos) {
      const before = data.slice(0, Number(pos[1]));
      const line = before.split("\n").length;
      return [line, before.length - before.lastIndexOf("\n")];
    }
    // "Unexpected end of JSON input" and the like: the end of the text.
    const lines = data.split("\n");
    return [lines.length, lines[lines.length - 1].length + 1];
  }
}

/** `JSON.parse(text)`, or undefined when the text is not JSON. */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The fields of an API error body (`{"type":"error","error":{...}}`), or undefined. */
export function parseApiError(text) {
  const body = parseJson(text);
  const err = body && typeof body === "object" ? body.error : undefined;
  if (!err || typeof err !== "object") return undefined;
  const str = (v) => (typeof v === "string" ? v : undefined);
  return [str(err.type), str(err.message), str(body.request_id), str(err.param)];
}

/** A list page: [items, nextPage] or undefined when the text is not a page. */
export function parsePage(text) {
  const body = parseJson(text);
  if (!body || !Array.isArray(body.data)) return undefined;
  let next = body.has_more === false ? undefined : body.next_page;
  if (typeof next === "number") next = String(next);
  if (typeof next !== "string" || next === "") next = undefined;
  return [body.data, next];
}

/** UTF-8 with U+FFFD for invalid sequences (as the SSE spec decodes), keeping any U+FEFF. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Node's `Buffer` (in Node only: a browser bundle may carry a slow copy of it), which makes a
 * string of UTF-16LE bytes with one copy, while Node's UTF-8 decoder goes a byte at a time past
 * the first non-ASCII byte.
 */
const NodeBuffer =
  typeof globalThis.process?.versions?.node === "string" && typeof globalThis.Buffer?.from === "function"
    ? globalThis.Buffer
    : null;

/** `src[start..end]`: a slice of a string, or the text of a slice of bytes. */
const part = (src, start, end) => (typeof src === "string" ? src.slice(start, end) : utf8.decode(src.subarray(start, end)));

/**
 * Whether each event's data is decoded on its own (Node) rather than the whole batch at once
 * (browsers). In Node, data that is not ASCII comes as UTF-16 (see `NodeBuffer`) and the rest
 * goes through a thin UTF-8 binding that is fastest on short ASCII input; a browser's decoder
 * costs about a microsecond per call, so one call per batch is about 2.5x faster there on
 * small events.
 */
const DECODE_EACH = NodeBuffer !== null;

/** UTF-16LE bytes of wasm memory as a string: one copy in Node, a decoder call elsewhere. */
const utf16 = new TextDecoder("utf-16le", { ignoreBOM: true });
const wideText = (buffer, ptr, len) =>
  NodeBuffer !== null ? NodeBuffer.from(buffer, ptr, len).toString("utf16le") : utf16.decode(new Uint8Array(buffer, ptr, len));

/** `len` bytes of UTF-16LE as one string, made once and sliced in order. */
class WideTextPieces {
  constructor(buffer, ptr, len) {
    this.text = len > 0 ? wideText(buffer, ptr, len) : "";
    this.at = 0;
  }

  /** The next part, which ends at byte `end`. */
  upTo(end) {
    const s = this.text.slice(this.at >> 1, end >> 1);
    this.at = end;
    return s;
  }
}

// The event flags of a batch (see src/boundary.rs, their one home; a cargo test checks these
// copies). Constants here so that the hot loops test literal bits.
export const FLAG_UPDATE = 1;
export const FLAG_HAS_ID = 2;
export const FLAG_WIDE_DATA = 4;
export const FLAG_SKELETON = 8;
export const FLAG_OWN_LAST_ID = 16;

/**
 * The parts of a batch outside its text, taken in order by its events (see src/boundary.rs):
 * UTF-16 data (FLAG_WIDE_DATA), all of it made into one string and sliced; the long
 * strings of FLAG_SKELETON events, each made on its own when its event is handled (so that a kept
 * event keeps nothing else alive); and the original data of FLAG_SKELETON events, decoded only for a
 * decode error. `ends` holds, per FLAG_SKELETON event, where its original data ends in `raw`, how
 * many strings were cut out, then where each ends in `long`.
 */
class OutOfLineParts {
  constructor(memory, wide, wideLen, long, raw, ends, endsLen) {
    this.memory = memory;
    // UTF-16 data (FLAG_WIDE_DATA), one part per event.
    this.wide = new WideTextPieces(memory.buffer, wide, wideLen);
    // Copied out: a listener may grow the memory, which detaches views. The parts themselves
    // stay where they are until the delivery is over.
    this.ends = endsLen > 0 ? new Uint32Array(memory.buffer, ends, endsLen).slice() : null;
    this.endsAt = 0;
    this.long = long;
    this.longAt = 0;
    this.raw = raw;
    this.rawAt = 0;
    this.lastRaw = [0, 0];
  }

  /** The next FLAG_SKELETON event's strings. */
  holes() {
    const ends = this.ends;
    const rawEnd = ends[this.endsAt], n = ends[this.endsAt + 1];
    const strings = new Array(n);
    for (let h = 0; h < n; h++) {
      const end = ends[this.endsAt + 2 + h];
      strings[h] = wideText(this.memory.buffer, this.long + this.longAt, end - this.longAt);
      this.longAt = end;
    }
    this.endsAt += 2 + n;
    this.lastRaw = [this.raw + this.rawAt, rawEnd - this.rawAt];
    this.rawAt = rawEnd;
    return strings;
  }

  /** The original data of the FLAG_SKELETON event whose strings were taken last. */
  original() {
    return utf8.decode(new Uint8Array(this.memory.buffer, this.lastRaw[0], this.lastRaw[1]));
  }
}

/**
 * Reads the batches Rust writes into wasm memory (src/boundary.rs is their one description):
 * the header's numbers are found by the names Rust gives in `layout`. `open(header)` starts a
 * batch; each `next()` moves to its next event and sets `data` (its data as a string) and
 * `flags`; `type()`, `id()` and `lastEventId()` decode the rest only when asked. `each`: each
 * event's data is decoded on its own (Node) rather than the whole text at once (browsers).
 */
export class BatchReader {
  constructor(memory, layout, each = DECODE_EACH) {
    this.memory = memory;
    this.each = each;
    const names = layout.trim().split(" ");
    this.field = Object.fromEntries(names.map((name, i) => [name, i]));
    this.words = names.length;
  }

  /** Starts reading the batch whose header is at `header`; returns its number of events. */
  open(header) {
    const buffer = this.memory.buffer, at = this.field;
    const h = new Uint32Array(buffer, header, this.words);
    const count = h[at.count];
    this.textPtr = h[at.text];
    this.textLen = h[at.textLen];
    // Copied out: a listener may grow the memory, which detaches views. The parts themselves
    // stay where they are until the delivery is over.
    this.meta = new Uint32Array(buffer, h[at.meta], count * 4).slice();
    const bytes = new Uint8Array(buffer, this.textPtr, this.textLen);
    this.src = this.each ? bytes : utf8.decode(bytes);
    this.parts = new OutOfLineParts(this.memory, h[at.wide], h[at.wideLen], h[at.long], h[at.raw], h[at.ends], h[at.endsLen]);
    this.k = 0;
    this.pos = 0;
    return count;
  }

  /** Moves to the next event; false after the last. */
  next() {
    const m = this.meta, k = this.k;
    if (k >= m.length) return false;
    const f = (this.flags = m[k + 3]);
    let src = this.src;
    this.typeStart = this.pos;
    if (this.each) {
      // A listener that called into wasm may have grown the memory, detaching the view.
      if (src.length !== this.textLen) src = this.src = new Uint8Array(this.memory.buffer, this.textPtr, this.textLen);
      this.typeEnd = m[k];
      this.idEnd = m[k + 1];
    } else {
      // In the decoded text, offsets are no longer those of the bytes: parts end at their CR.
      this.typeEnd = src.indexOf("\r", this.pos);
      this.idEnd = src.indexOf("\r", this.typeEnd + 1);
    }
    if (f & FLAG_WIDE_DATA) {
      this.data = this.parts.wide.upTo(m[k + 2]);
      this.pos = this.idEnd + 1;
    } else {
      const dataEnd = this.each ? m[k + 2] : src.indexOf("\r", this.idEnd + 1);
      this.data = part(src, this.idEnd + 1, dataEnd);
      this.pos = dataEnd + 1;
    }
    if (f & FLAG_OWN_LAST_ID) {
      this.lastStart = this.pos;
      this.pos = (this.each ? src.indexOf(13, this.pos) : src.indexOf("\r", this.pos)) + 1;
    }
    this.k = k + 4;
    return true;
  }

  type() {
    return part(this.src, this.typeStart, this.typeEnd);
  }

  id() {
    return this.flags & FLAG_HAS_ID ? part(this.src, this.typeEnd + 1, this.idEnd) : undefined;
  }

  /**
   * The batch as `SseParser.push` returns it: `{ type, data, id?, lastEventId }` per event (the
   * type and id decoded in one call, which is faster in Node).
   */
  sseEvents(header) {
    const out = new Array(this.open(header));
    for (let k = 0; this.next(); k++) {
      const f = this.flags, data = this.data;
      const head = part(this.src, this.typeStart, this.idEnd);
      const cut = head.indexOf("\r");
      const type = head.slice(0, cut);
      const id = f & FLAG_HAS_ID ? head.slice(cut + 1) : undefined;
      const lastEventId = f & FLAG_OWN_LAST_ID ? part(this.src, this.lastStart, this.pos - 1) : id ?? "";
      out[k] = id === undefined ? { type, data, lastEventId } : { type, data, id, lastEventId };
    }
    return out;
  }
}

/** The second argument of event listeners. */
const META_NEW = Object.freeze({ update: false });
const META_UPDATE = Object.freeze({ update: true });

/**
 * One stream's listeners and iterator, and the per-chunk delivery of its events. Rust decides
 * what to deliver (dedupe, order, resume, termination) and hands over each chunk's events in
 * one call, so that crossing the wasm boundary costs one call per chunk rather than several
 * per event. Listener lists are replaced, never mutated, so a listener
 * may add or remove listeners (or close the stream) during a delivery.
 */
export class Dispatcher {
  constructor(terminalTypes, onDecodeError, memory, layout, decodeEach = DECODE_EACH) {
    this.reader = new BatchReader(memory, layout, decodeEach);
    this.typed = new Map();
    this.any = [];
    this.lists = { error: [], state: [], reconnect: [] };
    this.terminal = new Set(terminalTypes);
    this.onDecodeError = onDecodeError;
    this.closed = false;
    this.queue = null;
    // While a batch is delivered: how many of its events were handed over (or reported as
    // decode errors), the current one included; -1 otherwise. Rust reads it for lastEventId.
    this.handled = -1;
    // Whether the last delivery must stop the reading (see `deliver`).
    this.stopped = false;
  }

  /** Whether each event's data is decoded on its own (see `BatchReader`). */
  get decodeEach() {
    return this.reader.each;
  }

  /** Adds a listener; returns the function that removes it. */
  add(kind, type, fn) {
    const entry = { fn };
    if (kind === "type") this.typed.set(type, [...(this.typed.get(type) || []), entry]);
    else if (kind === "any") this.any = [...this.any, entry];
    else this.lists[kind] = [...this.lists[kind], entry];
    return () => {
      if (kind === "type") {
        const rest = (this.typed.get(type) || []).filter((e) => e !== entry);
        if (rest.length) this.typed.set(type, rest);
        else this.typed.delete(type);
      } else if (kind === "any") this.any = this.any.filter((e) => e !== entry);
      else this.lists[kind] = this.lists[kind].filter((e) => e !== entry);
    };
  }

  emit(kind, value) {
    for (const e of this.lists[kind]) callListener(e.fn, value);
  }

  /**
   * Delivers one chunk's events: the batch whose header is at `header` (see `BatchReader`).
   * Returns the number of events handed over (or reported as decode errors); `stopped` then
   * says whether the stream must stop reading (a terminal event was delivered, or the stream
   * was closed).
   */
  deliver(header) {
    this.handled = 0;
    this.stopped = false;
    try {
      const r = this.reader;
      r.open(header);
      while (!this.closed && r.next()) {
        this.handled++;
        if (this.handle(r)) {
          this.stopped = true;
          return this.handled;
        }
      }
      this.stopped = this.closed;
      return this.handled;
    } finally {
      this.handled = -1;
    }
  }

  /**
   * Parses and delivers the reader's current event. With FLAG_SKELETON, its data is a
   * skeleton: its long strings come from the batch's parts, and a decode error shows the
   * original data. Returns true after a terminal event.
   */
  handle(r) {
    const f = r.flags;
    let value;
    try {
      if (f & FLAG_SKELETON) {
        const strings = r.parts.holes();
        // Each string was cut out as "\u0000" and its index, and no other string of the
        // skeleton starts with U+0000 (see src/holes.rs).
        value = JSON.parse(r.data, (_, v) => (typeof v === "string" && v.charCodeAt(0) === 0 ? strings[+v.slice(1)] : v));
      } else value = JSON.parse(r.data);
    } catch {
      this.decodeError(r, false);
      return false;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.decodeError(r, true);
      return false;
    }
    let type = value.type;
    if (typeof type !== "string") {
      type = r.type();
      if (value.type === undefined) value.type = type;
    }
    if (value.id === undefined && f & FLAG_HAS_ID) value.id = r.id();
    const m = f & FLAG_UPDATE ? META_UPDATE : META_NEW;
    const typed = this.typed.get(type);
    if (typed !== undefined) for (const e of typed) callListener(e.fn, value, m);
    for (const e of this.any) callListener(e.fn, value, m);
    if (this.queue !== null) this.enqueue(value);
    return this.terminal.has(type);
  }

  /** Reports the reader's current event as a decode error, with its original text. */
  decodeError(r, notObject) {
    this.onDecodeError(r.type(), r.id(), r.flags & FLAG_SKELETON ? r.parts.original() : r.data, notObject);
  }

  /**
   * Starts buffering events for `for await`. `waiting` holds the `next()` calls not yet
   * answered, oldest first: an application may call `next()` again before the last one settled,
   * and each call gets its own event, in order.
   */
  iterate() {
    if (this.queue === null) this.queue = { items: [], waiting: [], done: false, failure: undefined };
  }

  enqueue(value) {
    const q = this.queue;
    if (q.waiting.length) q.waiting.shift().resolve({ done: false, value });
    else q.items.push(value);
  }

  next() {
    this.iterate();
    const q = this.queue;
    if (q.items.length) return Promise.resolve({ done: false, value: q.items.shift() });
    if (q.done) return q.failure ? Promise.reject(q.failure) : Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => q.waiting.push({ resolve, reject }));
  }

  /** The stream is over: ends the iterator (rejecting with `failure` when a fatal error ended it). */
  end(failure) {
    this.closed = true;
    const q = this.queue;
    if (!q) return;
    q.done = true;
    q.failure = failure;
    for (const { resolve, reject } of q.waiting.splice(0)) {
      if (failure) reject(failure);
      else resolve({ done: true, value: undefined });
    }
  }
}

/**
 * A chunk as a Uint8Array: a Uint8Array as is, any other view or an ArrayBuffer as bytes, a
 * string (a custom fetch may yield them) as UTF-8; anything else is undefined. The one rule
 * for body chunks and `SseParser.push` (Rust's `copy_chunk` calls it).
 */
export function chunkBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return utf8Encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}
const utf8Encoder = new TextEncoder();

/**
 * A response body's reader, read chunk by chunk (`pump`): `read()` resolves to the chunk, or
 * null at the end. A native reader is cancelled on abort (its pending read then ends); any other
 * reader (a custom `fetch` may return anything) is raced against the abort, so that it cannot
 * hang the stream.
 */
export class BodyReader {
  constructor(reader) {
    this.reader = reader;
    this.native = typeof ReadableStreamDefaultReader !== "undefined" && reader instanceof ReadableStreamDefaultReader;
    this.rejectPending = null;
    this.aborted = false;
  }

  read() {
    let p;
    try {
      p = Promise.resolve(this.reader.read()).then((r) => (r == null || r.done ? null : r.value));
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.native) return p;
    return Promise.race([p, new Promise((_, reject) => (this.rejectPending = reject))]);
  }

  /**
   * Reads to the end, calling `onChunk(bytes)` for each chunk: it returns 0 to go on, or a
   * code that ends the pump. Resolves to that code, to 2 when a chunk is not bytes, or to 0 at
   * the end of the body.
   */
  async pump(onChunk) {
    for (;;) {
      let value;
      if (this.native) {
        const r = await this.reader.read();
        if (r.done) return 0;
        value = r.value;
      } else {
        value = await this.read();
        if (value === null) return 0;
      }
      const bytes = chunkBytes(value);
      if (bytes === undefined) return 2;
      const code = onChunk(bytes);
      if (code !== 0) return code;
    }
  }

  abort() {
    if (this.aborted) return;
    this.aborted = true;
    try {
      const c = this.reader.cancel();
      if (c && typeof c.then === "function") c.then(undefined, () => {});
    } catch {
      // A reader without a working cancel: the race below ends the wait.
    }
    if (this.rejectPending) this.rejectPending(new Error("aborted"));
  }
}
