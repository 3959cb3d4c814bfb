// ---------------------------------------------------------------------------------------------
// threadtail/model: the live state of an agent session, folded from its events (js/model.js).
//
//   import { createSessionModel } from "threadtail/model";
//   const model = createSessionModel({ maxTimelineEntries: 2000 });
//   model.attach(new SessionStream({ baseUrl, sessionId, token }));
//   const snapshot = useSyncExternalStore(model.subscribe, model.getSnapshot);
//
// Snapshots are immutable (frozen) and structurally shared: a thread, a timeline entry or the
// session that did not change keeps its identity in the next snapshot. What the server sends is
// untrusted data: its strings (types, ids, thread ids) never read Object.prototype, and every
// structure the model keeps is bounded by an option below.
// ---------------------------------------------------------------------------------------------
import type {
  ThreadEvent,
  EventType,
  Thread,
  ThreadStatus,
  StopReason,
  Role,
  ThreadtailError,
  EventMeta,
  StreamState,
  AgentToolUseEvent,
  AgentMcpToolUseEvent,
  AgentCustomToolUseEvent,
  AgentToolResultEvent,
  AgentMcpToolResultEvent,
  UserToolResultEvent,
  UserCustomToolResultEvent,
  UserToolConfirmationEvent,
  ThreadMessageSentEvent,
  ThreadMessageReceivedEvent,
  SessionErrorEvent,
} from "./index.js";

export interface SessionModelOptions {
  /** Entries kept per timeline (each thread's and the session's); the oldest are dropped and counted. Default 5000. */
  maxTimelineEntries?: number;
  /** Errors kept in `snapshot.errors` (all are counted). Default 100. */
  maxErrors?: number;
  /**
   * Threads kept. Default 1000. Beyond it the oldest placeholder (`known: false`) is dropped
   * first, then the oldest thread; each is counted in `counts.droppedThreads`. A dropped thread
   * leaves its parent's `childIds`; its children become roots (`parentId: null`).
   */
  maxThreads?: number;
  /**
   * Unknown event types counted by name in `counts.byType`. Default 256. The known types are
   * always named; events of further unknown types are counted in `counts.otherTypes`.
   */
  maxEventTypes?: number;
  /** UTF-16 code units kept in an entry's `preview`; the rest is counted in `previewDropped`. Default 100,000. */
  maxPreviewLength?: number;
}

/**
 * An event in the timeline on its own: messages, thinking, status changes, unknown types (an
 * event whose `type` is not a string too, its `type` as given)…
 */
export interface EventEntry {
  readonly kind: "event";
  /**
   * Stable across snapshots and unique in its timeline: a React key. The id of the event that
   * opened the entry (one that begins with `#` gets another `#` in front: `"#0"` -> `"##0"`),
   * or `#n` (a number) for an entry opened by an event without an id. Every entry kind has one.
   */
  readonly key: string;
  readonly event: ThreadEvent;
  /**
   * Only on an `event_start` entry: the text of the `event_delta`s that name it (`event_id`),
   * joined, at most `maxPreviewLength` long. A delta for any other entry is an entry of its own.
   */
  readonly preview?: string;
  /** Characters of the deltas not kept in `preview` (beyond `maxPreviewLength`); absent when none. */
  readonly previewDropped?: number;
}

/** A tool use with what answers it, whichever came first. */
export interface ToolEntry {
  readonly kind: "tool";
  readonly key: string;
  /** The tool use's event id. */
  readonly toolUseId: string;
  /** `null` while only its result or confirmation has arrived. */
  readonly use: AgentToolUseEvent | AgentMcpToolUseEvent | AgentCustomToolUseEvent | null;
  readonly confirmation: UserToolConfirmationEvent | null;
  readonly result: AgentToolResultEvent | AgentMcpToolResultEvent | UserToolResultEvent | UserCustomToolResultEvent | null;
  /** `pending` (no result yet), `done`, `error` (`result.is_error`), `denied` (confirmation `deny`, no result). */
  readonly state: "pending" | "done" | "error" | "denied";
}

/**
 * A message between threads, in the timeline of the thread where its `side` happened, paired
 * with the other side (in the other thread) when that is known to the model.
 */
export interface ThreadMessageEntry {
  readonly kind: "thread_message";
  readonly key: string;
  /** Which event of this thread the entry stands for. */
  readonly side: "sent" | "received";
  readonly sent: ThreadMessageSentEvent | null;
  readonly received: ThreadMessageReceivedEvent | null;
}

/** An event the stream could not decode (`decode`, `too_large`), where it came. */
export interface ErrorEntry {
  readonly kind: "error";
  readonly key: string;
  readonly error: ThreadtailError | unknown;
}

/** One item of a timeline; narrow with `switch (entry.kind)`. */
export type TimelineEntry = EventEntry | ToolEntry | ThreadMessageEntry | ErrorEntry;

/** One thread as the model knows it. */
export interface ThreadSnapshot {
  /** The `session_thread_id` (a non-empty string; an event with another value names no thread). */
  readonly id: string;
  /** False for a placeholder: events of the thread came before its `session.thread_created` or listing. */
  readonly known: boolean;
  /**
   * `null` for a root (the coordinator), while unknown, or when its parent was dropped
   * (`maxThreads`). A link that would close a cycle is refused (an error of `source: "model"`),
   * so a walk up the parents always ends.
   */
  readonly parentId: string | null;
  /** In order of appearance. */
  readonly childIds: readonly string[];
  readonly agentName: string | null;
  readonly agentId: string | null;
  readonly role: Role | null;
  readonly createdAt: string | null;
  readonly createdByToolUseId: string | null;
  /** `null` until a status event or a listing says. */
  readonly status: ThreadStatus | null;
  /** Of the last `idle` or `terminated` status; `null` otherwise. */
  readonly stopReason: StopReason | null;
  /** The `created_at` (or listing `updated_at`) of the status: an older status event does not replace it. */
  readonly statusAt: string | null;
  readonly timeline: readonly TimelineEntry[];
  /** Entries dropped from the start of `timeline` by `maxTimelineEntries`. */
  readonly dropped: number;
  /** Events folded into this thread (updates not counted again). */
  readonly eventCount: number;
  /** The id of the last event folded into this thread (ids are non-empty strings; others are no ids). */
  readonly lastEventId: string | null;
}

/** The session itself: its status and the events that name no thread. */
export interface SessionInfo {
  /** From the events' `session_id`, when one named no thread. */
  readonly id: string | null;
  /** From `session.status_*`; `"deleted"` after `session.deleted`. */
  readonly status: ThreadStatus | "deleted" | null;
  readonly stopReason: StopReason | null;
  readonly deleted: boolean;
  readonly timeline: readonly TimelineEntry[];
  readonly dropped: number;
  readonly eventCount: number;
}

export interface ModelCounts {
  /** Events folded (updates not counted again). */
  readonly events: number;
  /** Events that replaced one with the same id. */
  readonly updates: number;
  /** Events of a type this version does not know, or whose `type` is not a string (kept in the timeline). */
  readonly unknown: number;
  /** Errors recorded (also those no longer in `errors`). */
  readonly errors: number;
  /**
   * Events by type, a prototype-less object: every known type seen, and the first
   * `maxEventTypes` unknown ones.
   */
  readonly byType: Readonly<Record<string, number>>;
  /** Events not in `byType`: of unknown types beyond `maxEventTypes`, or whose `type` is not a string. */
  readonly otherTypes: number;
  /** Threads dropped by `maxThreads`. */
  readonly droppedThreads: number;
}

/**
 * A `session.error` event (`source: "session"`), an error a stream reported (`"stream"`), or
 * what the model refused (`"model"`: kind `parent_cycle`, a parent link that would have closed
 * a cycle; `threadId` is the thread, `event` the `session.thread_created` when one said so).
 */
export interface ModelError {
  readonly source: "session" | "stream" | "model";
  readonly threadId: string | null;
  /** The `ThreadtailError.kind`, the `session.error`'s `error.type`, or `parent_cycle`. */
  readonly kind: string;
  readonly message: string;
  readonly error?: ThreadtailError | unknown;
  readonly event?: SessionErrorEvent | ThreadEvent;
}

/** What the model publishes; never changes once published. */
export interface SessionSnapshot {
  /** Increases with each published snapshot. */
  readonly version: number;
  readonly session: SessionInfo;
  /** Every thread by id (a prototype-less object). */
  readonly threads: Readonly<Record<string, ThreadSnapshot>>;
  /** Thread ids in order of appearance (at most `maxThreads`). */
  readonly threadIds: readonly string[];
  /** Threads without a parent (`parentId: null`), in order of appearance. */
  readonly rootIds: readonly string[];
  readonly counts: ModelCounts;
  /** The most recent errors, oldest first (at most `maxErrors`). */
  readonly errors: readonly ModelError[];
}

/** What `attach` accepts: a `ThreadStream`, a `SessionStream`, or anything with their listener API. */
export interface ModelSource {
  onEvent(listener: (event: ThreadEvent, meta: EventMeta) => void): () => void;
  onError?(listener: (error: ThreadtailError) => void): () => void;
  onStateChange?(listener: (state: StreamState) => void): () => void;
  readonly state?: StreamState;
}

export interface PushOptions {
  /** The stream's `meta.update` (an event with an id already in its thread's timeline replaces it either way). */
  update?: boolean;
  /** The thread of an event that names none (`session_thread_id`). */
  threadId?: string;
}

export class SessionModel {
  constructor(options?: SessionModelOptions);
  /** The current snapshot: the same object until the next notification. Bound to the model. */
  getSnapshot(): SessionSnapshot;
  /** One thread of the current snapshot. Bound to the model. */
  getThread(id: string): ThreadSnapshot | undefined;
  /**
   * Calls `listener` once per published change (at most once per microtask); returns the
   * function that stops it. Bound to the model: `useSyncExternalStore(model.subscribe, …)`.
   */
  subscribe(listener: (snapshot: SessionSnapshot) => void): () => void;
  /**
   * Folds the source's events and errors until `detach` or until it reports `closed`; no
   * callback of it acts on the model after that. `threadId`: the thread of events that name
   * none and of decode errors (a `ThreadStream`'s). Attaching a source twice attaches it once.
   * If one of its `on…` methods throws, the listeners registered already are removed and the
   * error is thrown.
   */
  attach(source: ModelSource, options?: { threadId?: string }): () => void;
  /** Stops folding `source` (every source without one). Idempotent. */
  detach(source?: ModelSource): void;
  /**
   * Folds one event (tests, server-side rendering, another transport). Any object is folded:
   * one whose `type` is not a string is kept as an unknown event. Ids are non-empty strings: an
   * event whose `id` is anything else has none (it neither replaces nor is replaced).
   */
  push(event: ThreadEvent, options?: PushOptions): void;
  /** Folds an item of `listThreads`: the thread, and its status unless an event said newer. */
  pushThread(thread: Thread): void;
  /** Records an error; a decode error with a `threadId` also goes into that timeline. */
  pushError(error: ThreadtailError | unknown, options?: { threadId?: string }): void;
  /**
   * Publishes pending changes now and notifies (otherwise once per microtask). Called from a
   * listener, it publishes at once (`getSnapshot()` returns the new snapshot) and the listeners
   * get it after the current notification: each listener sees every snapshot once, in order.
   */
  flush(): void;
}

/** How a console shows an event type. */
export type EventGroup = "message" | "thread_message" | "thinking" | "tool" | "status" | "error" | "other";
/** The known event types of each group but `other` (a renderer's styles, a filter's server-side `types`). */
export const EVENT_GROUPS: Readonly<Record<Exclude<EventGroup, "other">, readonly EventType[]>>;
/** The group of an event type, `"other"` for one not in `EVENT_GROUPS` (unknown types too). */
export function eventGroup(type: string): EventGroup;

/** `new SessionModel(options)`. */
export function createSessionModel(options?: SessionModelOptions): SessionModel;
/** The thread `id` of a snapshot. */
export function selectThread(snapshot: SessionSnapshot, id: string): ThreadSnapshot | undefined;
/** The children of thread `id`, or the roots for `null`, in order of appearance. */
export function selectChildren(snapshot: SessionSnapshot, id: string | null): ThreadSnapshot[];
/** Whether a thread's status is `terminated` or `archived`. */
export function isEnded(thread: ThreadSnapshot | undefined): boolean;
/** The events of an entry in the order a console shows them (a tool: use, confirmation, result). */
export function entryEvents(entry: TimelineEntry): ThreadEvent[];
/** Their ids (only non-empty strings are ids). */
export function entryEventIds(entry: TimelineEntry): string[];
