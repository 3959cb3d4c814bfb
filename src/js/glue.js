// The few things that are simpler and faster on the JavaScript side of the boundary. Rust
// decides everything; these helpers only convert.

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
 * JSON.parse of an event's data, with `type` and `id` filled from the SSE fields when the
 * payload lacks them. Returns undefined when the data is not JSON, null when it is JSON but
 * not an object.
 */
export function parseEvent(data, type, id) {
  let value;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  if (value.type === undefined) value.type = type;
  if (value.id === undefined && id !== undefined) value.id = id;
  return value;
}

/** Calls a listener; a listener that throws must not stop the stream or the other listeners. */
export function callListener(fn, a, b) {
  try {
    fn(a, b);
  } catch (e) {
    if (typeof globalThis.reportError === "function") globalThis.reportError(e);
    else queueMicrotask(() => { throw e; });
  }
}

/** Marks a promise as handled, so that dropping it never raises an unhandled rejection. */
export function ignoreRejection(promise) {
  if (promise && typeof promise.then === "function") promise.then(undefined, () => {});
}

/** The unsubscribe function returned by `on`. */
export function makeOff(stream, id) {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      stream.off(id);
    }
  };
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

/** One SseParser event, as a plain object with a fixed shape. */
export function sseEvent(type, data, id, lastEventId) {
  return id === undefined ? { type, data, lastEventId } : { type, data, id, lastEventId };
}

/** The second argument of event listeners. */
const META_NEW = Object.freeze({ update: false });
const META_UPDATE = Object.freeze({ update: true });
export function eventMeta(update) {
  return update ? META_UPDATE : META_NEW;
}

/** The `type` of a parsed event object. */
export function typeOf(event) {
  return typeof event.type === "string" ? event.type : undefined;
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

/** The fields of an API error body (`{"type":"error","error":{...}}`), or undefined. */
export function parseApiError(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const err = body && typeof body === "object" ? body.error : undefined;
  if (!err || typeof err !== "object") return undefined;
  const str = (v) => (typeof v === "string" ? v : undefined);
  return [str(err.type), str(err.message), str(body.request_id), str(err.param)];
}

/** A list page: [items, nextPage] or undefined when the text is not a page. */
export function parsePage(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!body || !Array.isArray(body.data)) return undefined;
  let next = body.has_more === false ? undefined : body.next_page;
  if (typeof next === "number") next = String(next);
  if (typeof next !== "string" || next === "") next = undefined;
  return [body.data, next];
}
