// threadtail/model: the live state of an agent session, folded from its events.
//
// What an agent console renders: the thread tree (parent and children, agent name, role), each
// thread's status and stop reason, each thread's timeline grouped the way a console shows it (a
// tool use with its result, a message sent between threads with its receipt), counts and
// errors. A `SessionModel` is fed by a `SessionStream` or `ThreadStream` (`attach`), by list
// items (`pushThread`), or by events pushed in by hand (`push`: tests, server-side rendering).
// It publishes immutable snapshots with structural sharing through `subscribe` / `getSnapshot`,
// the contract of React's `useSyncExternalStore` (and of Svelte, Vue and plain DOM code).
//
// Why plain JavaScript and not part of the wasm: events reach JavaScript as `JSON.parse`
// output already; a fold in Rust would need the events back across the boundary and a JSON
// parser of its own in the wasm (tens of KB, against the package's size budget), and snapshots
// with structural sharing are JavaScript objects anyway. So this module imports nothing: it
// works with anything that has the streams' listener API (`onEvent`, and optionally `onError`
// and `onStateChange`), and is a separate entry that costs nothing to those who do not import it.
//
// Rules of the fold (each has a test in tests/js/model.test.mjs):
// - An event whose id is already in its thread's timeline replaces the event it repeats, in
//   place (`meta.update` says so; the model does it for any known id, so two overlapping sources
//   never show an event twice). Status events re-apply their status.
// - Unknown event types are kept in the timeline as `event` entries, never dropped.
// - Events of a thread not created yet create a placeholder thread (`known: false`) that
//   `session.thread_created` or a list item fills in later: arrival order across threads does
//   not matter. Within a thread, a status event older (`created_at`) than the status already
//   known does not move the status back (a replayed history after a listing, a late update);
//   it is still kept in the timeline.
// - Tool uses pair with their results and confirmations by tool use id, whichever comes first;
//   `agent.thread_message_sent` in one thread pairs with `agent.thread_message_received` in the
//   other, first in first out per (from, to) pair of threads (the API gives them no shared id).
// - Timelines are bounded (`maxTimelineEntries`): the oldest entries are dropped and counted in
//   the thread's `dropped`; errors likewise (`maxErrors`); threads too (`maxThreads`: the oldest
//   placeholder first, then the oldest thread; counted in `counts.droppedThreads`), the unknown
//   types named in `counts.byType` (`maxEventTypes`), a preview (`maxPreviewLength`) and the
//   messages waiting for their other side (MAX_PENDING_PAIRS pairs of threads, and no more than
//   their timeline holds). Everything the server names is untrusted: no string of it indexes a
//   plain object (Maps, prototype-less objects), and a parent link that would close a cycle is
//   refused (an error of `source: "model"`).
// - Ids are non-empty strings: an event whose `id` is anything else has no id (never replaces
//   or is replaced). An event whose `type` is not a string is kept as an unknown event.
// - Changes are published once per microtask (one notification per delivered batch of events),
//   or at once with `flush()`. A published snapshot is frozen and never changes; an unchanged
//   thread (and an unchanged timeline entry) keeps its identity in the next snapshot. A `flush()`
//   from a listener publishes at once; every listener still gets the snapshots in order, each once.

const KNOWN_TYPES = new Set([
  "session.thread_created", "session.thread_status_running", "session.thread_status_idle",
  "session.thread_status_terminated", "session.thread_status_rescheduled",
  "agent.thread_message_sent", "agent.thread_message_received", "agent.thread_context_compacted",
  "user.message", "user.interrupt", "user.tool_confirmation", "user.custom_tool_result",
  "user.tool_result", "user.define_outcome", "system.message", "agent.message", "agent.thinking",
  "agent.tool_use", "agent.tool_result", "agent.mcp_tool_use", "agent.mcp_tool_result",
  "agent.custom_tool_use", "session.status_running", "session.status_idle",
  "session.status_rescheduled", "session.status_terminated", "session.error", "session.deleted",
  "session.updated", "session.usage", "span.model_request_start", "span.model_request_end",
  "span.outcome_evaluation_start", "span.outcome_evaluation_ongoing", "span.outcome_evaluation_end",
  "event_start", "event_delta",
]);

/** Tool uses, and the field of a result that names the use. */
const TOOL_USES = new Set(["agent.tool_use", "agent.mcp_tool_use", "agent.custom_tool_use"]);
// Maps, not object literals: `event.type` is the server's string ("constructor", "__proto__").
const TOOL_ANSWERS = new Map([
  ["agent.tool_result", ["tool_use_id", "result"]],
  ["user.tool_result", ["tool_use_id", "result"]],
  ["agent.mcp_tool_result", ["mcp_tool_use_id", "result"]],
  ["user.custom_tool_result", ["custom_tool_use_id", "result"]],
  ["user.tool_confirmation", ["tool_use_id", "confirmation"]],
]);
const THREAD_STATUS = new Map([
  ["session.thread_status_running", "running"],
  ["session.thread_status_idle", "idle"],
  ["session.thread_status_terminated", "terminated"],
  ["session.thread_status_rescheduled", "rescheduling"],
]);
const SESSION_STATUS = new Map([
  ["session.status_running", "running"],
  ["session.status_idle", "idle"],
  ["session.status_terminated", "terminated"],
  ["session.status_rescheduled", "rescheduling"],
]);
const SENT = "agent.thread_message_sent";
const RECEIVED = "agent.thread_message_received";
const ENDED = new Set(["terminated", "archived"]);
/** Pairs of threads (per direction) whose messages wait for their other side; the oldest pair is given up. */
const MAX_PENDING_PAIRS = 4096;

const EMPTY = Object.freeze([]);
const freeze = Object.freeze;

/** An RFC 3339 time as milliseconds, or NaN (absent or unreadable: never compared). */
const instant = (iso) => (typeof iso === "string" ? Date.parse(iso) : NaN);
const str = (v) => (typeof v === "string" && v !== "" ? v : null);
/** The key of a timeline entry: its event id, or `#seq` for one without; an id that begins with `#` gets another `#`, so the two never meet. */
const keyOf = (id, seq) => (id === null ? `#${seq}` : id.charCodeAt(0) === 35 ? `#${id}` : id);

/**
 * Event types by how a console shows them (a renderer's styles, a filter's server-side `types`).
 * Types not listed are `other`.
 */
export const EVENT_GROUPS = freeze({
  message: freeze(["user.message", "agent.message", "system.message"]),
  thread_message: freeze([SENT, RECEIVED]),
  thinking: freeze(["agent.thinking"]),
  tool: freeze([...TOOL_USES, ...TOOL_ANSWERS.keys()]),
  status: freeze(["session.thread_created", ...THREAD_STATUS.keys(), ...SESSION_STATUS.keys(), "session.deleted"]),
  error: freeze(["session.error"]),
});
const GROUP_OF = new Map(Object.entries(EVENT_GROUPS).flatMap(([g, list]) => list.map((t) => [t, g])));

/** The group of an event type in `EVENT_GROUPS`, or `"other"`. */
export function eventGroup(type) {
  return GROUP_OF.get(type) ?? "other";
}

/** Creates a `SessionModel`. */
export function createSessionModel(options) {
  return new SessionModel(options);
}

/** The thread `id` of a snapshot, or undefined. */
export function selectThread(snapshot, id) {
  return Object.hasOwn(snapshot.threads, id) ? snapshot.threads[id] : undefined;
}

/** The threads whose parent is `id` (`null`: the roots), in order of appearance. */
export function selectChildren(snapshot, id) {
  const ids = id === null || id === undefined ? snapshot.rootIds : selectThread(snapshot, id)?.childIds ?? EMPTY;
  return ids.map((c) => snapshot.threads[c]);
}

/** Whether a thread has ended (`terminated` or `archived`). */
export function isEnded(thread) {
  return ENDED.has(thread?.status);
}

/** The ids of the events of a timeline entry, in the order a console shows them (ids are non-empty strings). */
export function entryEventIds(entry) {
  return entryEvents(entry).map((e) => str(e.id)).filter((id) => id !== null);
}

/** The events of a timeline entry, in the order a console shows them. */
export function entryEvents(entry) {
  switch (entry.kind) {
    case "tool": return [entry.use, entry.confirmation, entry.result].filter(Boolean);
    case "thread_message": return [entry.side === "sent" ? entry.sent : entry.received].filter(Boolean);
    case "event": return [entry.event];
    default: return [];
  }
}

/** A timeline with its bookkeeping (a thread's, or the session's for events of no thread). */
class Track {
  constructor(published) {
    this.current = published; // the published object (frozen)
    this.draft = null; // a mutable copy while a batch changes it
    this.byId = new Map(); // event id -> seq of its entry
    this.tools = new Map(); // tool use id -> seq of its entry
    this.dropped = 0; // entries dropped so far: the entry of seq s is at timeline[s - dropped]
    this.next = 0; // the seq of the next entry
    this.waiting = null; // its records in #pendingSent / #pendingReceived, by seq (from waitHead on)
    this.waitHead = 0;
  }
}

/**
 * The entries of a pair of threads waiting for their other side, oldest first: a FIFO whose
 * removals (the oldest taken, a trimmed one anywhere) are O(1) amortised.
 */
class Waiting {
  constructor(queue, pair) {
    this.queue = queue; // the map that holds it (#pendingSent or #pendingReceived)
    this.pair = pair; // its key there
    this.items = []; // records { track, seq, list, gone }; removed ones are marked `gone` and skipped
    this.head = 0; // index of the oldest item not yet passed
    this.size = 0; // records not gone
  }

  push(rec) {
    this.items.push(rec);
    this.size++;
  }

  /** Takes the oldest record, or undefined. */
  shift() {
    this.#skipGone();
    if (this.head === this.items.length) return undefined;
    const rec = this.items[this.head];
    this.items[this.head++] = undefined;
    rec.gone = true;
    this.size--;
    this.#compact();
    return rec;
  }

  remove(rec) {
    if (rec.gone) return;
    rec.gone = true;
    this.size--;
    this.#skipGone();
    this.#compact();
  }

  #skipGone() {
    while (this.head < this.items.length && this.items[this.head].gone) this.items[this.head++] = undefined;
  }

  /** Drops what was passed or removed once it is half the array or more (O(1) amortised per item). */
  #compact() {
    const n = this.items.length;
    if (n < 64 || this.size * 2 > n) return;
    this.items = this.items.filter((r) => r !== undefined && !r.gone);
    this.head = 0;
  }
}

export class SessionModel {
  #max;
  #maxErrors;
  #maxThreads;
  #maxEventTypes;
  #maxPreview;
  #tracks = new Map(); // thread id -> Track, in order of appearance
  #placeholders = new Set(); // ids of threads not created nor listed yet, in order of appearance
  #session; // Track of events with no thread
  #dirty = new Set(); // tracks with a draft
  #membersChanged = false; // threads added or dropped: threadIds
  #treeChanged = false; // parent links changed: rootIds
  #threadsChanged = false; // a thread has a new object: threads
  #counts = { events: 0, updates: 0, unknown: 0, errors: 0, otherTypes: 0, droppedThreads: 0 };
  #byType = new Map(); // type -> count (the known types, and at most #maxEventTypes others)
  #unknownNamed = 0; // unknown types in #byType
  #countsChanged = false;
  #errors = [];
  #errorsChanged = false;
  #pendingSent = new Map(); // "from\nto" -> Waiting: sent, waiting for their receipt
  #pendingReceived = new Map(); // "from\nto" -> Waiting: received before their send
  #snapshot;
  #version = 0;
  #listeners = new Set();
  #scheduled = false;
  #delivering = false;
  #sources = new Map(); // source -> detach()

  /**
   * @param {{ maxTimelineEntries?: number, maxErrors?: number, maxThreads?: number,
   *   maxEventTypes?: number, maxPreviewLength?: number }} [options]
   */
  constructor(options = {}) {
    const limits = [
      ["maxTimelineEntries", options.maxTimelineEntries ?? 5000],
      ["maxErrors", options.maxErrors ?? 100],
      ["maxThreads", options.maxThreads ?? 1000],
      ["maxEventTypes", options.maxEventTypes ?? 256],
      ["maxPreviewLength", options.maxPreviewLength ?? 100_000],
    ];
    for (const [name, v] of limits) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`threadtail/model: ${name} must be a positive integer, got ${v}`);
    }
    [this.#max, this.#maxErrors, this.#maxThreads, this.#maxEventTypes, this.#maxPreview] = limits.map(([, v]) => v);
    this.#session = new Track(freeze({
      id: null, status: null, stopReason: null, deleted: false, timeline: EMPTY, dropped: 0, eventCount: 0,
    }));
    this.#snapshot = this.#build();
    // Bound, so that they can be passed around: useSyncExternalStore(model.subscribe, model.getSnapshot).
    this.subscribe = this.subscribe.bind(this);
    this.getSnapshot = this.getSnapshot.bind(this);
    this.getThread = this.getThread.bind(this);
  }

  // ---- reading ------------------------------------------------------------------------------

  /** The current snapshot: the same object until the next notification. */
  getSnapshot() {
    return this.#snapshot;
  }

  /** One thread of the current snapshot (the same object while it does not change). */
  getThread(id) {
    return selectThread(this.#snapshot, id);
  }

  /** Calls `listener(snapshot)` after each published change; returns a function that stops it. */
  subscribe(listener) {
    if (typeof listener !== "function") throw new TypeError("threadtail/model: subscribe() takes a function");
    const entry = { listener }; // one registration per call, even of the same function
    this.#listeners.add(entry);
    return () => { this.#listeners.delete(entry); };
  }

  // ---- sources ------------------------------------------------------------------------------

  /**
   * Folds a stream's events and errors into the model until `detach`, or until the stream
   * reports `closed` (after `close()`, a terminal event or a fatal error): no callback of it
   * acts on the model after that. `threadId` names the thread of events that carry none and
   * of decode errors (a `ThreadStream`'s thread). Returns the detach function. If registering
   * a listener throws, those registered already are removed and the error is thrown.
   */
  attach(source, { threadId } = {}) {
    if (!source || typeof source.onEvent !== "function") {
      throw new TypeError("threadtail/model: attach() takes a ThreadStream, a SessionStream or an object with onEvent()");
    }
    const known = this.#sources.get(source);
    if (known) return known;
    let live = true;
    const offs = [];
    const detach = () => {
      if (!live) return;
      live = false;
      if (this.#sources.get(source) === detach) this.#sources.delete(source);
      for (const off of offs.splice(0)) if (typeof off === "function") off();
    };
    // A registration after a detach (a source that reports `closed` at once) is undone at once.
    const add = (off) => { if (live) offs.push(off); else if (typeof off === "function") off(); };
    this.#sources.set(source, detach);
    try {
      add(source.onEvent((event, meta) => {
        if (live) this.push(event, { update: meta?.update === true, threadId });
      }));
      if (typeof source.onError === "function") {
        add(source.onError((error) => { if (live) this.pushError(error, { threadId }); }));
      }
      if (typeof source.onStateChange === "function") {
        add(source.onStateChange((state) => { if (state === "closed") detach(); }));
      }
    } catch (err) {
      detach();
      throw err;
    }
    if (source.state === "closed") detach();
    return detach;
  }

  /** Stops folding `source` (every source without an argument). Idempotent. */
  detach(source) {
    if (source === undefined) for (const d of [...this.#sources.values()]) d();
    else this.#sources.get(source)?.();
  }

  // ---- folding ------------------------------------------------------------------------------

  /**
   * Folds one event. `update`: the stream's `meta.update` (an event with a known id replaces
   * it either way); `threadId`: the thread of an event that names none. Any object is an event:
   * one whose `type` is not a string is kept as an unknown event.
   */
  push(event, { update = false, threadId } = {}) {
    if (!event || typeof event !== "object") return;
    if (this.#tracks.size > this.#maxThreads) this.#evictThreads();
    const type = event.type;
    const tid = str(event.session_thread_id) ?? str(threadId);
    const track = tid === null ? this.#session : this.#thread(tid);
    const id = str(event.id);
    const seq = id === null ? undefined : track.byId.get(id);
    const counts = this.#counts;
    this.#countsChanged = true;
    if (seq !== undefined) counts.updates++;
    else {
      counts.events++;
      const known = KNOWN_TYPES.has(type);
      if (!known) counts.unknown++;
      const n = this.#byType.get(type);
      if (n !== undefined) this.#byType.set(type, n + 1);
      else if (known) this.#byType.set(type, 1);
      else if (typeof type === "string" && this.#unknownNamed < this.#maxEventTypes) {
        this.#byType.set(type, 1);
        this.#unknownNamed++;
      } else counts.otherTypes++;
    }
    const d = this.#edit(track);
    if (seq === undefined) d.eventCount++;

    // What the event says about its thread or the session.
    if (tid !== null) this.#applyToThread(track, d, event, type);
    else this.#applyToSession(d, event, type);
    if (type === "session.error") {
      const e = event.error ?? {};
      this.#error({ source: "session", threadId: tid, kind: str(e.type) ?? "error", message: String(e.message ?? ""), event });
    }
    if (type === "session.deleted") {
      const s = this.#edit(this.#session);
      s.deleted = true;
      s.status = "deleted";
    }

    // Its place in the timeline.
    if (seq !== undefined) this.#replace(track, seq, event);
    else this.#append(track, event, type, id, tid);
    this.#schedule();
  }

  /** Folds an item of `listThreads` (a `Thread`): fills in the thread, its status if newer. */
  pushThread(thread) {
    const tid = str(thread?.id);
    if (tid === null) return;
    if (this.#tracks.size > this.#maxThreads) this.#evictThreads();
    const track = this.#thread(tid);
    const d = this.#edit(track);
    this.#known(d);
    this.#setParent(d, thread.parent_thread_id === undefined ? undefined : str(thread.parent_thread_id), undefined);
    d.agentName = str(thread.agent_name) ?? str(thread.agent?.name) ?? d.agentName;
    d.agentId = str(thread.agent?.id) ?? d.agentId;
    d.role = str(thread.role) ?? d.role;
    d.createdAt = str(thread.created_at) ?? d.createdAt;
    if (str(thread.status) !== null) this.#setStatus(d, thread.status, thread.stop_reason ?? null, thread.updated_at);
    this.#schedule();
  }

  /**
   * Records an error: a stream's `ThreadtailError`, or anything thrown. Decode errors of a
   * stream attached with a `threadId` also take their place in that thread's timeline.
   */
  pushError(error, { threadId } = {}) {
    const tid = str(threadId);
    const kind = str(error?.kind) ?? "error";
    this.#error({ source: "stream", threadId: tid, kind, message: String(error?.message ?? error), error });
    if (tid !== null && (kind === "decode" || kind === "too_large")) {
      if (this.#tracks.size > this.#maxThreads) this.#evictThreads();
      const track = this.#thread(tid);
      this.#edit(track).timeline.push(freeze({ kind: "error", key: `#${track.next}`, error }));
      track.next++;
      this.#trimIfLarge(track);
    }
    this.#schedule();
  }

  /**
   * Publishes pending changes now and notifies (otherwise done once per microtask). Called by
   * a listener, it publishes at once and the listeners get the newer snapshot after the current
   * one, each once and in order.
   */
  flush() {
    this.#scheduled = false;
    if (this.#tracks.size > this.#maxThreads) this.#evictThreads();
    if (this.#dirty.size === 0 && !this.#countsChanged && !this.#errorsChanged && !this.#treeChanged && !this.#membersChanged) return;
    for (const track of this.#dirty) {
      this.#trim(track, this.#max);
      const d = track.draft;
      d.dropped = track.dropped;
      d.timeline = freeze(d.timeline);
      if (d.childIds) {
        d.childIds = freeze(d.childIds);
        this.#threadsChanged = true;
      }
      track.current = freeze(d);
      track.draft = null;
    }
    this.#dirty.clear();
    this.#snapshot = this.#build();
    this.#deliver();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Notifies the listeners of the current snapshot; again if one of them published a newer one. */
  #deliver() {
    if (this.#delivering) return; // a flush() from a listener: the running loop delivers it next
    this.#delivering = true;
    try {
      let sent = null;
      while (sent !== this.#snapshot) {
        const snapshot = (sent = this.#snapshot);
        for (const entry of [...this.#listeners]) {
          if (!this.#listeners.has(entry)) continue; // unsubscribed by an earlier listener
          try {
            entry.listener(snapshot);
          } catch (err) {
            report(err); // one listener's failure stops neither the others nor the model
          }
        }
      }
    } finally {
      this.#delivering = false;
    }
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => { if (this.#scheduled) this.flush(); });
  }

  #thread(tid) {
    let track = this.#tracks.get(tid);
    if (!track) {
      track = new Track(freeze({
        id: tid, known: false, parentId: null, childIds: EMPTY, agentName: null, agentId: null, role: null,
        createdAt: null, createdByToolUseId: null, status: null, stopReason: null, statusAt: null,
        timeline: EMPTY, dropped: 0, eventCount: 0, lastEventId: null,
      }));
      this.#tracks.set(tid, track);
      this.#placeholders.add(tid);
      this.#membersChanged = true;
      this.#treeChanged = true;
      this.#edit(track);
    }
    return track;
  }

  /** A thread created or listed: no longer a placeholder. */
  #known(d) {
    d.known = true;
    this.#placeholders.delete(d.id);
  }

  /** Drops threads beyond `maxThreads`: the oldest placeholder first, then the oldest thread. */
  #evictThreads() {
    while (this.#tracks.size > this.#maxThreads) {
      const placeholder = this.#placeholders.values().next();
      this.#dropThread(placeholder.done ? this.#tracks.keys().next().value : placeholder.value);
    }
  }

  /** Forgets a thread: its parent no longer lists it, its children become roots. */
  #dropThread(tid) {
    const track = this.#tracks.get(tid);
    const v = track.draft ?? track.current;
    this.#tracks.delete(tid);
    this.#placeholders.delete(tid);
    this.#dirty.delete(track);
    track.draft = null;
    const parent = v.parentId === null ? undefined : this.#tracks.get(v.parentId);
    if (parent) {
      const pd = this.#edit(parent);
      pd.childIds = pd.childIds.filter((c) => c !== tid);
    }
    for (const c of v.childIds) {
      const child = this.#tracks.get(c);
      if (child) this.#edit(child).parentId = null;
    }
    for (const rec of track.waiting ?? EMPTY) if (rec && !rec.gone) this.#unqueue(rec);
    track.waiting = null;
    this.#counts.droppedThreads++;
    this.#countsChanged = true;
    this.#membersChanged = true;
    this.#treeChanged = true;
  }

  /** The mutable draft of a track for this batch (a copy of the published object). */
  #edit(track) {
    if (!track.draft) {
      const c = track.current;
      // Spread, not slice(): V8's slice() of a frozen array takes a slow path (~60x slower).
      track.draft = { ...c, timeline: [...c.timeline] };
      if (c.childIds) track.draft.childIds = [...c.childIds];
      this.#dirty.add(track);
    }
    return track.draft;
  }

  #applyToThread(track, d, event, type) {
    const id = str(event.id);
    if (id !== null) d.lastEventId = id;
    if (type === "session.thread_created") {
      this.#known(d);
      this.#setParent(d, event.parent_thread_id === undefined ? undefined : str(event.parent_thread_id), event);
      d.agentName = str(event.agent_name) ?? d.agentName;
      d.agentId = str(event.agent_id) ?? d.agentId;
      d.role = str(event.role) ?? d.role;
      d.createdByToolUseId = str(event.created_by_tool_use_id) ?? d.createdByToolUseId;
      d.createdAt = str(event.created_at) ?? d.createdAt;
      return;
    }
    const status = THREAD_STATUS.get(type);
    if (status === undefined) return;
    if (type === "session.thread_status_running") d.agentName = d.agentName ?? str(event.agent_name);
    const stop = type === "session.thread_status_idle" || type === "session.thread_status_terminated" ? event.stop_reason ?? null : null;
    this.#setStatus(d, str(event.status) ?? status, stop, event.created_at);
  }

  /** Sets a status unless it is older than the one known (times compared as instants). */
  #setStatus(d, status, stopReason, at) {
    const t = instant(at);
    const known = instant(d.statusAt);
    if (!Number.isNaN(t) && !Number.isNaN(known) && t < known) return;
    d.status = status;
    d.stopReason = stopReason;
    if (!Number.isNaN(t)) d.statusAt = at;
  }

  #applyToSession(d, event, type) {
    d.id = d.id ?? str(event.session_id);
    const status = SESSION_STATUS.get(type);
    if (status !== undefined && !d.deleted) {
      d.status = status;
      d.stopReason = type === "session.status_idle" ? event.stop_reason ?? null : null;
    }
  }

  /**
   * Links a thread under its parent (`undefined`: unknown, leave as is). A link that would
   * close a cycle (the parent is the thread or one of its descendants) is refused and recorded.
   */
  #setParent(d, parentId, event) {
    if (parentId === undefined || parentId === d.parentId) return;
    if (parentId !== null && this.#isAncestorOrSelf(d.id, parentId)) {
      this.#error({ source: "model", threadId: d.id, kind: "parent_cycle",
        message: `thread ${d.id} cannot have ${parentId} as its parent: that would close a cycle`, event });
      return;
    }
    if (d.parentId !== null) {
      const old = this.#tracks.get(d.parentId);
      if (old) {
        const od = this.#edit(old);
        od.childIds = od.childIds.filter((c) => c !== d.id);
      }
    }
    d.parentId = parentId;
    if (parentId !== null) {
      const pd = this.#edit(this.#thread(parentId));
      if (!pd.childIds.includes(d.id)) pd.childIds.push(d.id);
    }
    this.#treeChanged = true;
  }

  /** Whether thread `id` is `start` or one of its ancestors (walks up from `start`). */
  #isAncestorOrSelf(id, start) {
    // The links are acyclic (none that closes a cycle is made), so the walk ends; the bound is a guard.
    for (let p = start, steps = 0; p !== null && steps <= this.#tracks.size; steps++) {
      if (p === id) return true;
      const t = this.#tracks.get(p);
      if (!t) return false;
      p = (t.draft ?? t.current).parentId;
    }
    return false;
  }

  #append(track, event, type, id, tid) {
    const d = track.draft;
    const seq = track.next;
    const key = keyOf(id, seq);
    let entry;
    const answer = TOOL_ANSWERS.get(type);
    if (TOOL_USES.has(type) && id !== null) {
      const at = track.tools.get(id);
      if (at !== undefined && this.#entryAt(track, at)?.use === null) {
        // Its result or confirmation came first: complete that entry where it is.
        this.#setEntry(track, at, toolEntry({ ...this.#entryAt(track, at), use: event }));
        track.byId.set(id, at);
        return;
      }
      track.tools.set(id, seq);
      entry = toolEntry({ kind: "tool", key, toolUseId: id, use: event, confirmation: null, result: null });
    } else if (answer && str(event[answer[0]]) !== null) {
      const useId = event[answer[0]];
      const at = track.tools.get(useId);
      const cur = at === undefined ? undefined : this.#entryAt(track, at);
      if (cur && cur[answer[1]] === null) {
        this.#setEntry(track, at, toolEntry({ ...cur, [answer[1]]: event }));
        if (id !== null) track.byId.set(id, at);
        return;
      }
      if (!cur) track.tools.set(useId, seq);
      entry = toolEntry({ kind: "tool", key, toolUseId: useId, use: null, confirmation: null, result: null, [answer[1]]: event });
    } else if ((type === SENT || type === RECEIVED) && tid !== null) {
      entry = this.#messageEntry(track, event, type, key, tid, seq);
    } else if (type === "event_delta" && str(event.event_id) !== null && track.byId.has(event.event_id)) {
      const at = track.byId.get(event.event_id);
      const cur = this.#entryAt(track, at);
      if (cur?.kind === "event" && cur.event.type === "event_start") {
        // A piece of a preview: appended to its event_start's text, up to maxPreviewLength.
        // (Its id is not indexed: the library delivers a delta once, and the trim only knows
        // the ids an entry holds.)
        this.#setEntry(track, at, this.#withPiece(cur, event.delta?.content?.text));
        return;
      }
      entry = freeze({ kind: "event", key, event });
    } else {
      entry = freeze({ kind: "event", key, event });
    }
    d.timeline.push(entry);
    track.next++;
    if (id !== null) track.byId.set(id, seq);
    this.#trimIfLarge(track);
  }

  /** A preview entry with one more piece of text; what goes beyond `maxPreviewLength` is counted in `previewDropped`. */
  #withPiece(cur, piece) {
    const text = typeof piece === "string" ? piece : "";
    const before = cur.preview ?? "";
    let kept = text;
    if (before.length + text.length > this.#maxPreview) {
      let room = Math.max(0, this.#maxPreview - before.length);
      const c = text.charCodeAt(room - 1);
      if (room > 0 && c >= 0xd800 && c <= 0xdbff) room--; // not half a surrogate pair
      kept = text.slice(0, room);
    }
    const next = { ...cur, preview: before + kept };
    if (kept.length < text.length) next.previewDropped = (cur.previewDropped ?? 0) + text.length - kept.length;
    return freeze(next);
  }

  /** A sent or received message, paired with the other side if it came already. */
  #messageEntry(track, event, type, key, tid, seq) {
    const sent = type === SENT;
    const from = str(event.from_session_thread_id) ?? (sent ? tid : null);
    const to = str(event.to_session_thread_id) ?? (sent ? null : tid);
    const entry = { kind: "thread_message", key, side: sent ? "sent" : "received", sent: sent ? event : null, received: sent ? null : event };
    if (from !== null && to !== null) {
      const pair = `${from}\n${to}`;
      const other = this.#takePending(sent ? this.#pendingReceived : this.#pendingSent, pair);
      const oe = other && this.#entryAt(other.track, other.seq);
      if (oe?.kind === "thread_message") {
        this.#setEntry(other.track, other.seq, freeze({ ...oe, [sent ? "sent" : "received"]: event }));
        entry[sent ? "received" : "sent"] = sent ? oe.received : oe.sent;
      } else {
        this.#enqueue(sent ? this.#pendingSent : this.#pendingReceived, pair, track, seq);
      }
    }
    return freeze(entry);
  }

  /**
   * An entry waiting for its other side. Bounded three ways, since receipts may never come (a
   * ThreadStream sees one side only): a record leaves when its entry leaves the timeline, a
   * pair keeps at most maxTimelineEntries, and at most MAX_PENDING_PAIRS pairs wait.
   */
  #enqueue(queue, pair, track, seq) {
    let list = queue.get(pair);
    if (!list) {
      if (queue.size >= MAX_PENDING_PAIRS) {
        const [oldest, waiting] = queue.entries().next().value;
        queue.delete(oldest);
        while (waiting.shift() !== undefined); // each marked gone
      }
      queue.set(pair, (list = new Waiting(queue, pair)));
    }
    const rec = { track, seq, list, gone: false };
    list.push(rec);
    (track.waiting ??= []).push(rec);
    if (list.size > this.#max) list.shift();
  }

  /** The entry of `seq` leaves the timeline: its record (if it still waits) too. */
  #unwait(track, seq) {
    const items = track.waiting;
    if (!items) return;
    while (track.waitHead < items.length) {
      const rec = items[track.waitHead];
      if (rec.seq > seq) break;
      items[track.waitHead++] = undefined;
      if (rec.seq === seq && !rec.gone) this.#unqueue(rec);
    }
    if (track.waitHead >= 64 && track.waitHead * 2 >= items.length) {
      track.waiting = items.slice(track.waitHead);
      track.waitHead = 0;
    }
  }

  /** Removes a waiting record (its entry is trimmed or its thread dropped). */
  #unqueue(rec) {
    const list = rec.list;
    list.remove(rec);
    if (list.size === 0 && list.queue.get(list.pair) === list) list.queue.delete(list.pair);
  }

  /** The oldest waiting entry of a pair still in its timeline. */
  #takePending(queue, pair) {
    const list = queue.get(pair);
    if (!list) return undefined;
    let found;
    while (list.size && !found) {
      const p = list.shift();
      if (p.seq >= p.track.dropped && this.#tracks.get(p.track.current.id) === p.track) found = p;
    }
    if (!list.size) queue.delete(pair);
    return found;
  }

  /** An event with a known id: the entry that holds it gets the new version, in place. */
  #replace(track, seq, event) {
    const cur = this.#entryAt(track, seq);
    if (!cur) return;
    const id = event.id;
    let next;
    if (cur.kind === "tool") {
      const field = cur.use?.id === id ? "use" : cur.result?.id === id ? "result" : cur.confirmation?.id === id ? "confirmation" : null;
      if (field === null) return;
      next = toolEntry({ ...cur, [field]: event });
    } else if (cur.kind === "thread_message") {
      next = freeze({ ...cur, [cur.side]: event });
      // The other thread's entry shows this side too.
      const partner = cur.side === "sent" ? cur.received : cur.sent;
      const ptid = str(partner?.session_thread_id);
      const ptrack = ptid === null ? undefined : this.#tracks.get(ptid);
      const pid = str(partner?.id);
      const pseq = pid === null ? undefined : ptrack?.byId.get(pid);
      const pe = pseq === undefined ? undefined : this.#entryAt(ptrack, pseq);
      if (pe?.kind === "thread_message") this.#setEntry(ptrack, pseq, freeze({ ...pe, [cur.side]: event }));
    } else if (cur.kind === "event" && cur.event.type === event.type) {
      next = freeze({ ...cur, event });
    } else {
      // A preview replaced by its final event, or a type that changed: a new entry, same place.
      next = freeze({ kind: "event", key: cur.key, event });
      if (TOOL_USES.has(event.type)) {
        next = toolEntry({ kind: "tool", key: cur.key, toolUseId: id, use: event, confirmation: null, result: null });
        track.tools.set(id, seq);
      }
    }
    this.#setEntry(track, seq, next);
  }

  #entryAt(track, seq) {
    const timeline = track.draft ? track.draft.timeline : track.current.timeline;
    return timeline[seq - track.dropped];
  }

  #setEntry(track, seq, entry) {
    const i = seq - track.dropped;
    const d = this.#edit(track);
    if (i >= 0 && i < d.timeline.length) d.timeline[i] = entry;
  }

  /** Keeps a batch's draft from growing without bound (trimmed to the limit at publication). */
  #trimIfLarge(track) {
    if (track.draft.timeline.length >= 2 * this.#max) this.#trim(track, this.#max);
  }

  #trim(track, max) {
    const timeline = track.draft.timeline;
    const n = timeline.length - max;
    if (n <= 0) return;
    for (const entry of timeline.splice(0, n)) {
      const seq = track.dropped;
      switch (entry.kind) {
        case "event":
          forget(track, entry.event, seq);
          break;
        case "tool":
          forget(track, entry.use, seq);
          forget(track, entry.result, seq);
          forget(track, entry.confirmation, seq);
          if (track.tools.get(entry.toolUseId) === seq) track.tools.delete(entry.toolUseId);
          break;
        case "thread_message": {
          forget(track, entry.sent, seq);
          forget(track, entry.received, seq);
          this.#unwait(track, seq);
          break;
        }
      }
      track.dropped++;
    }
  }

  #error(record) {
    this.#counts.errors++;
    this.#countsChanged = true;
    this.#errors.push(freeze(record));
    if (this.#errors.length > this.#maxErrors) this.#errors.splice(0, this.#errors.length - this.#maxErrors);
    this.#errorsChanged = true;
  }

  /** A new snapshot: new objects only for what changed since the last one. */
  #build() {
    const prev = this.#snapshot;
    let threads = prev?.threads;
    if (!prev || this.#threadsChanged || this.#membersChanged || this.#treeChanged) {
      // A prototype-less object: a thread id is the server's string ("__proto__", "constructor").
      threads = Object.create(null);
      for (const [id, track] of this.#tracks) threads[id] = track.current;
      freeze(threads);
      this.#threadsChanged = false;
    }
    let threadIds = prev?.threadIds ?? EMPTY;
    if (this.#membersChanged) {
      threadIds = freeze([...this.#tracks.keys()]);
      this.#membersChanged = false;
    }
    let rootIds = prev?.rootIds ?? EMPTY;
    if (this.#treeChanged) {
      rootIds = freeze(threadIds.filter((id) => threads[id].parentId === null));
      this.#treeChanged = false;
    }
    let counts = prev?.counts;
    if (!prev || this.#countsChanged) {
      const c = this.#counts;
      const byType = Object.create(null); // prototype-less: the types are the server's strings
      for (const [type, n] of this.#byType) byType[type] = n;
      counts = freeze({ events: c.events, updates: c.updates, unknown: c.unknown, errors: c.errors,
        otherTypes: c.otherTypes, droppedThreads: c.droppedThreads, byType: freeze(byType) });
      this.#countsChanged = false;
    }
    let errors = prev?.errors ?? EMPTY;
    if (this.#errorsChanged) {
      errors = freeze(this.#errors.slice());
      this.#errorsChanged = false;
    }
    const session = this.#session.current;
    if (prev && threads === prev.threads && counts === prev.counts && errors === prev.errors
      && session === prev.session && threadIds === prev.threadIds && rootIds === prev.rootIds) return prev;
    return freeze({ version: this.#version++, session, threads, threadIds, rootIds, counts, errors });
  }
}

/** Reports a listener's exception the way the streams do: reportError, or a Node warning. */
function report(err) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(err);
  else if (typeof globalThis.process?.emitWarning === "function") globalThis.process.emitWarning(err instanceof Error ? err : String(err), "ThreadtailListenerError");
  else console.error(err);
}

/** Unindexes the id of an event of the entry of `seq` that leaves its timeline. */
function forget(track, event, seq) {
  const id = event ? str(event.id) : null;
  if (id !== null && track.byId.get(id) === seq) track.byId.delete(id);
}

/** A tool entry with its derived state. */
function toolEntry(e) {
  const r = e.result;
  const denied = e.confirmation?.result === "deny";
  const state = r ? (r.is_error === true ? "error" : "done") : denied ? "denied" : "pending";
  return freeze({ kind: "tool", key: e.key, toolUseId: e.toolUseId, use: e.use, confirmation: e.confirmation, result: e.result, state });
}
