// ---------------------------------------------------------------------------------------------
// threadtail/model: the live state of an agent session, folded from its events (js/model.js).
//
//   import { createSessionModel } from "threadtail/model";
//   const model = createSessionModel({ maxTimelineEntries: 2000 });
//   model.attach(new SessionStream({ baseUrl, sessionId, token }));
//   const snapshot = useSyncExternalStore(model.subscribe, model.getSnapshot);
//
// Snapshots are immutable (frozen) and structurally shared: a thread, a timeline entry or the
// session that did not change keeps its identity in the next snapshot.
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
}

/** An event in the timeline on its own: messages, thinking, status changes, unknown types… */
export interface EventEntry {
  readonly kind: "event";
  /** Stable across snapshots (the event id, or `#n`): a React key. */
  readonly key: string;
  readonly event: ThreadEvent;
  /** The text of `event_delta`s received for an `event_start` preview, joined. */
  readonly preview?: string;
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
  readonly id: string;
  /** False for a placeholder: events of the thread came before its `session.thread_created` or listing. */
  readonly known: boolean;
  /** `null` for a root (the coordinator), or while unknown. */
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
  /** The id of the last event folded into this thread. */
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
  /** Events of a type this version does not know (kept in the timeline). */
  readonly unknown: number;
  /** Errors recorded (also those no longer in `errors`). */
  readonly errors: number;
  readonly byType: Readonly<Record<string, number>>;
}

/** A `session.error` event, or an error a stream reported. */
export interface ModelError {
  readonly source: "session" | "stream";
  readonly threadId: string | null;
  /** The `ThreadtailError.kind`, or the `session.error`'s `error.type`. */
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
  /** Thread ids in order of appearance. */
  readonly threadIds: readonly string[];
  /** Threads without a parent, in order of appearance. */
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
   */
  attach(source: ModelSource, options?: { threadId?: string }): () => void;
  /** Stops folding `source` (every source without one). Idempotent. */
  detach(source?: ModelSource): void;
  /** Folds one event (tests, server-side rendering, another transport). */
  push(event: ThreadEvent, options?: PushOptions): void;
  /** Folds an item of `listThreads`: the thread, and its status unless an event said newer. */
  pushThread(thread: Thread): void;
  /** Records an error; a decode error with a `threadId` also goes into that timeline. */
  pushError(error: ThreadtailError | unknown, options?: { threadId?: string }): void;
  /** Publishes pending changes now and notifies (otherwise once per microtask). */
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
/** Their ids. */
export function entryEventIds(entry: TimelineEntry): string[];
