// ---- The client API (hand-written; tests/ts/check.mjs compares it with the runtime classes) ----

/** The stable categories of `ThreadtailError.kind`. */
export type ErrorKind =
  | "authentication"
  | "not_found"
  | "invalid_request"
  | "permission"
  | "rate_limited"
  | "server"
  | "http"
  | "content_type"
  | "network"
  | "timeout"
  | "decode"
  | "too_large"
  | "invalid_argument"
  | "unresumable_id"
  | "paging"
  | "redirect"
  /** The package could not load its WebAssembly (the message names the fix for the setup). */
  | "wasm_load";

/** Every error threadtail reports: a real `Error` subclass. */
export class ThreadtailError extends Error {
  readonly name: "ThreadtailError";
  /** What went wrong, as a stable category. */
  readonly kind: ErrorKind;
  /** Whether the stream retries by itself after this error. */
  readonly retryable: boolean;
  /** The HTTP status, for HTTP errors. */
  readonly status?: number;
  /** The server's `error.type` (for example `not_found_error`). */
  readonly type?: string;
  /** The server's `error.message`. */
  readonly serverMessage?: string;
  /** The server's `request_id`, for support requests. */
  readonly requestId?: string;
  /** Decode errors: the event's id, type, raw data and the offending position. */
  readonly eventId?: string;
  readonly eventType?: string;
  readonly raw?: string;
  readonly line?: number;
  readonly column?: number;
  /** `SseParser.push` only: the events of the chunk that were parsed fine. */
  readonly events?: SseEvent[];
}

/** Connection states. */
export type StreamState = "connecting" | "open" | "reconnecting" | "closed";

/** The second argument of event listeners. */
export interface EventMeta {
  /**
   * True when an event with this id was delivered before (streamed or listed over REST) with
   * other content, and is delivered again with the new one (a queued event later processed).
   * Recognised while the id is among the 4,096 most recent ids delivered.
   */
  readonly update: boolean;
}

/** A scheduled reconnect. */
export interface ReconnectInfo {
  attempt: number;
  delayMs: number;
  reason: string;
}

/** A Bearer token, or a function that returns one (called before each connection). */
export type TokenOption = string | ((ctx: { refresh: boolean }) => string | Promise<string>);

/** Options shared by streams and list functions. */
export interface ConnectionOptions {
  /** The API root; may carry a path prefix (`https://host/api/v1/cloud`). */
  baseUrl: string;
  /** The session id (`sess_…`, `sesn_…`). */
  sessionId: string;
  /** Sent as `Authorization: Bearer …`; never put in a URL, log or error. */
  token?: TokenOption;
  /** Extra headers (`x-api-key`, version headers …). */
  headers?: Record<string, string> | Headers | [string, string][];
  /** A `fetch` to use instead of the global one. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

export interface RetryOptions {
  /** Base delay before the first reconnect (a server `retry:` replaces it). Default 1000. */
  initialDelayMs?: number;
  /** Cap of computed delays. Default 30000. */
  maxDelayMs?: number;
  /** Reconnects after consecutive failures before giving up (so at most maxAttempts + 1 connection attempts in a row fail). Default Infinity. */
  maxAttempts?: number;
  /** Floor of any delay, so `retry: 0` cannot busy-loop. Default 100. */
  minDelayMs?: number;
  /** A connection open this long resets the backoff. Default 10000. */
  healthyAfterMs?: number;
}

export interface StreamOptions extends ConnectionOptions {
  /** Server-side filter: only these event types are sent. */
  types?: EventType[] | (string & {})[];
  /** Resume after this id (for example one the application persisted). */
  lastEventId?: string;
  /**
   * The server mints ids that sort in creation order (same length and prefix): an id at or
   * below the newest one delivered is skipped even beyond the window of recent ids. Only for
   * servers known to do so; it also catches a server that ignores `lastEventId` and replays
   * from the start. Default false: ids are opaque.
   */
  orderedIds?: boolean;
  /** `"fetch"` (default) or the native `"eventsource"` (same-origin cookies; no token or headers). */
  transport?: "fetch" | "eventsource";
  /** `withCredentials` of the `"eventsource"` transport. */
  withCredentials?: boolean;
  retry?: RetryOptions;
  /**
   * Reconnect when no byte (keep-alives count) arrives for this long: checked every quarter of
   * it, so the reconnect comes at most half as long again after. Default 45000; 0 disables.
   */
  idleTimeoutMs?: number;
  /** The largest event accepted. Default 8 MiB. */
  maxEventBytes?: number;
  /** Aborting it closes the stream. */
  signal?: AbortSignal;
  /** `"server"` (trust the server's replay, default), `"backfill"` (list over REST and merge), `"none"`. */
  history?: "server" | "backfill" | "none";
}

export interface ThreadStreamOptions extends StreamOptions {
  /** The thread id (`sthr_…`). */
  threadId: string;
}

export type SessionStreamOptions = StreamOptions;

/** The async iterator of a stream: leaving the loop closes the stream. */
export class EventIterator implements AsyncIterableIterator<ThreadEvent> {
  private constructor();
  next(): Promise<IteratorResult<ThreadEvent, undefined>>;
  return(): Promise<IteratorResult<ThreadEvent, undefined>>;
  [Symbol.asyncIterator](): EventIterator;
  free(): void;
}

declare class StreamBase {
  /** Listens to one event type (typed); returns a function that removes the listener. */
  on<K extends EventType>(type: K, listener: (event: EventMap[K], meta: EventMeta) => void): () => void;
  /** Listens to every event, known or not. */
  onEvent(listener: (event: ThreadEvent, meta: EventMeta) => void): () => void;
  onError(listener: (error: ThreadtailError) => void): () => void;
  onStateChange(listener: (state: StreamState) => void): () => void;
  onReconnect(listener: (info: ReconnectInfo) => void): () => void;
  /**
   * The resume point: the SSE last event ID of the last new event handed to a listener or the
   * iterator (or reported as a decode error), also while a listener runs; an id-only block
   * moves it and an empty `id:` clears it. An id longer than 1024 bytes or with white space at
   * an end never becomes it (`unresumable_id`). Persist it to resume later.
   */
  readonly lastEventId: string;
  readonly state: StreamState;
  /** Reconnects scheduled so far. */
  readonly reconnects: number;
  /** Idempotent; cancels the fetch, the reader and any pending timer. */
  close(): void;
  /** The iterator behind `for await (const event of stream)`. */
  events(): EventIterator;
  [Symbol.asyncIterator](): EventIterator;
  /** Frees the wasm-side object (after `close()`); optional, the GC does it too. */
  free(): void;
}

/** Follows one thread: `GET {baseUrl}/sessions/{sessionId}/threads/{threadId}/stream`. */
export class ThreadStream extends StreamBase {
  constructor(options: ThreadStreamOptions);
}

/** Follows every thread of a session: `GET {baseUrl}/sessions/{sessionId}/events/stream`. */
export class SessionStream extends StreamBase {
  constructor(options: SessionStreamOptions);
}

/** One event from `SseParser`. */
export interface SseEvent {
  /** The `event:` field, `"message"` by default. */
  type: string;
  /** The `data:` lines joined with LF. */
  data: string;
  /** The `id:` field of this event, if it had one. */
  id?: string;
  /** The last event ID string at dispatch. */
  lastEventId: string;
}

export interface SseParserOptions {
  /** Default 8 MiB. */
  maxEventBytes?: number;
  /** Comment lines (keep-alives), without the colon and one leading space. */
  onComment?: (text: string) => void;
  /** Oversized events; without it, `push` throws (with the chunk's good events in `events`). */
  onError?: (error: ThreadtailError) => void;
  /** Start from this last event ID. */
  lastEventId?: string;
}

/** The WHATWG `text/event-stream` parser, for any byte source. */
export class SseParser {
  constructor(options?: SseParserOptions);
  /** Feeds a chunk (any ArrayBuffer view, an ArrayBuffer, or a string as UTF-8); returns the events it completed. */
  push(chunk: ArrayBufferView | ArrayBuffer | string): SseEvent[];
  /** End of stream: an unterminated event is discarded. */
  end(): void;
  /** Before a reconnected body: drops the partial event, keeps the last event ID. */
  reset(): void;
  /** The last valid `retry:` in ms. */
  readonly retry: number | undefined;
  readonly lastEventId: string;
  free(): void;
}

/** Items of a list route, page by page. */
export class ListIterator<T = unknown> implements AsyncIterableIterator<T> {
  private constructor();
  next(): Promise<IteratorResult<T, undefined>>;
  return(): Promise<IteratorResult<T, undefined>>;
  [Symbol.asyncIterator](): ListIterator<T>;
  free(): void;
}

export interface ListOptions extends ConnectionOptions {
  /** Page size (1-1000). */
  limit?: number;
  /** Retries of a page after a retryable error (so at most maxAttempts + 1 requests per page), as `retry.maxAttempts` for streams. Default 4. */
  maxAttempts?: number;
}

/** Every thread of a session. */
export function listThreads(options: ListOptions & { statuses?: ThreadStatus[] }): ListIterator<Thread>;

/** A thread's event history, oldest first. */
export function listThreadEvents(
  options: ListOptions & { threadId: string; types?: EventType[] | (string & {})[] },
): ListIterator<ThreadEvent>;
