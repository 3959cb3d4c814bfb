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
//   the thread's `dropped`; errors likewise (`maxErrors`).
// - Changes are published once per microtask (one notification per delivered batch of events),
//   or at once with `flush()`. A published snapshot is frozen and never changes; an unchanged
//   thread (and an unchanged timeline entry) keeps its identity in the next snapshot.

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
const TOOL_ANSWERS = {
  "agent.tool_result": ["tool_use_id", "result"],
  "user.tool_result": ["tool_use_id", "result"],
  "agent.mcp_tool_result": ["mcp_tool_use_id", "result"],
  "user.custom_tool_result": ["custom_tool_use_id", "result"],
  "user.tool_confirmation": ["tool_use_id", "confirmation"],
};
const THREAD_STATUS = {
  "session.thread_status_running": "running",
  "session.thread_status_idle": "idle",
  "session.thread_status_terminated": "terminated",
  "session.thread_status_rescheduled": "rescheduling",
};
const SESSION_STATUS = {
  "session.status_running": "running",
  "session.status_idle": "idle",
  "session.status_terminated": "terminated",
  "session.status_rescheduled": "rescheduling",
};
const SENT = "agent.thread_message_sent";
const RECEIVED = "agent.thread_message_received";
const ENDED = new Set(["terminated", "archived"]);

const EMPTY = Object.freeze([]);
const freeze = Object.freeze;

/** An RFC 3339 time as milliseconds, or NaN (absent or unreadable: never compared). */
const instant = (iso) => (typeof iso === "string" ? Date.parse(iso) : NaN);
const str = (v) => (typeof v === "string" && v !== "" ? v : null);

/**
 * Event types by how a console shows them (a renderer's styles, a filter's server-side `types`).
 * Types not listed are `other`.
 */
export const EVENT_GROUPS = freeze({
  message: freeze(["user.message", "agent.message", "system.message"]),
  thread_message: freeze([SENT, RECEIVED]),
  thinking: freeze(["agent.thinking"]),
  tool: freeze([...TOOL_USES, ...Object.keys(TOOL_ANSWERS)]),
  status: freeze(["session.thread_created", ...Object.keys(THREAD_STATUS), ...Object.keys(SESSION_STATUS), "session.deleted"]),
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

/** The ids of the events of a timeline entry, in the order a console shows them. */
export function entryEventIds(entry) {
  return entryEvents(entry).map((e) => e.id).filter((id) => id !== undefined);
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
  }
}

export class SessionModel {
  #max;
  #maxErrors;
  #tracks = new Map(); // thread id -> Track
  #session; // Track of events with no thread
  #dirty = new Set(); // tracks with a draft
  #order = []; // thread ids in order of appearance
  #treeChanged = false;
  #counts = { events: 0, updates: 0, unknown: 0, errors: 0, byType: Object.create(null) };
  #countsChanged = false;
  #errors = [];
  #errorsChanged = false;
  #pendingSent = new Map(); // "from\nto" -> [{ thread, seq }] sent, waiting for their receipt
  #pendingReceived = new Map(); // "from\nto" -> [{ thread, seq }] received before their send
  #snapshot;
  #version = 0;
  #listeners = new Set();
  #scheduled = false;
  #sources = new Map(); // source -> detach()

  /**
   * @param {{ maxTimelineEntries?: number, maxErrors?: number }} [options]
   */
  constructor(options = {}) {
    const max = options.maxTimelineEntries ?? 5000;
    const maxErrors = options.maxErrors ?? 100;
    for (const [name, v] of [["maxTimelineEntries", max], ["maxErrors", maxErrors]]) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`threadtail/model: ${name} must be a positive integer, got ${v}`);
    }
    this.#max = max;
    this.#maxErrors = maxErrors;
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
   * of decode errors (a `ThreadStream`'s thread). Returns the detach function.
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
      this.#sources.delete(source);
      for (const off of offs.splice(0)) if (typeof off === "function") off();
    };
    this.#sources.set(source, detach);
    offs.push(source.onEvent((event, meta) => {
      if (live) this.push(event, { update: meta?.update === true, threadId });
    }));
    if (typeof source.onError === "function") {
      offs.push(source.onError((error) => { if (live) this.pushError(error, { threadId }); }));
    }
    if (typeof source.onStateChange === "function") {
      offs.push(source.onStateChange((state) => { if (state === "closed") detach(); }));
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
   * it either way); `threadId`: the thread of an event that names none.
   */
  push(event, { update = false, threadId } = {}) {
    if (!event || typeof event !== "object" || typeof event.type !== "string") return;
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
      counts.byType[type] = (counts.byType[type] ?? 0) + 1;
      if (!KNOWN_TYPES.has(type)) counts.unknown++;
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
    const track = this.#thread(tid);
    const d = this.#edit(track);
    this.#setParent(track, d, thread.parent_thread_id === undefined ? undefined : str(thread.parent_thread_id));
    d.known = true;
    d.agentName = str(thread.agent_name) ?? str(thread.agent?.name) ?? d.agentName;
    d.agentId = str(thread.agent?.id) ?? d.agentId;
    d.role = str(thread.role) ?? d.role;
    d.createdAt = str(thread.created_at) ?? d.createdAt;
    if (str(thread.status) !== null) this.#setStatus(track, d, thread.status, thread.stop_reason ?? null, thread.updated_at);
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
      const track = this.#thread(tid);
      this.#edit(track).timeline.push(freeze({ kind: "error", key: `#${track.next}`, error }));
      track.next++;
      this.#trimIfLarge(track);
    }
    this.#schedule();
  }

  /** Publishes pending changes now and notifies (otherwise done once per microtask). */
  flush() {
    this.#scheduled = false;
    if (this.#dirty.size === 0 && !this.#countsChanged && !this.#errorsChanged && !this.#treeChanged) return;
    for (const track of this.#dirty) {
      this.#trim(track, this.#max);
      const d = track.draft;
      d.dropped = track.dropped;
      d.timeline = freeze(d.timeline);
      if (d.childIds) d.childIds = freeze(d.childIds);
      track.current = freeze(d);
      track.draft = null;
    }
    this.#dirty.clear();
    this.#snapshot = this.#build();
    for (const entry of [...this.#listeners]) {
      if (!this.#listeners.has(entry)) continue; // unsubscribed by an earlier listener
      try {
        entry.listener(this.#snapshot);
      } catch (err) {
        report(err); // one listener's failure stops neither the others nor the model
      }
    }
  }

  // ---- internals ----------------------------------------------------------------------------

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
      this.#order.push(tid);
      this.#treeChanged = true;
      this.#edit(track);
    }
    return track;
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
      d.known = true;
      this.#setParent(track, d, event.parent_thread_id === undefined ? undefined : str(event.parent_thread_id));
      d.agentName = str(event.agent_name) ?? d.agentName;
      d.agentId = str(event.agent_id) ?? d.agentId;
      d.role = str(event.role) ?? d.role;
      d.createdByToolUseId = str(event.created_by_tool_use_id) ?? d.createdByToolUseId;
      d.createdAt = str(event.created_at) ?? d.createdAt;
      return;
    }
    const status = THREAD_STATUS[type];
    if (status === undefined) return;
    if (type === "session.thread_status_running") d.agentName = d.agentName ?? str(event.agent_name);
    const stop = type === "session.thread_status_idle" || type === "session.thread_status_terminated" ? event.stop_reason ?? null : null;
    this.#setStatus(track, d, str(event.status) ?? status, stop, event.created_at);
  }

  /** Sets a status unless it is older than the one known (times compared as instants). */
  #setStatus(track, d, status, stopReason, at) {
    const t = instant(at);
    const known = instant(d.statusAt);
    if (!Number.isNaN(t) && !Number.isNaN(known) && t < known) return;
    d.status = status;
    d.stopReason = stopReason;
    if (!Number.isNaN(t)) d.statusAt = at;
  }

  #applyToSession(d, event, type) {
    d.id = d.id ?? str(event.session_id);
    const status = SESSION_STATUS[type];
    if (status !== undefined && !d.deleted) {
      d.status = status;
      d.stopReason = type === "session.status_idle" ? event.stop_reason ?? null : null;
    }
  }

  /** Links a thread under its parent (`undefined`: unknown, leave as is). */
  #setParent(track, d, parentId) {
    if (parentId === undefined || parentId === d.parentId || parentId === d.id) return;
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

  #append(track, event, type, id, tid) {
    const d = track.draft;
    const seq = track.next;
    const key = id ?? `#${seq}`;
    let entry;
    const answer = TOOL_ANSWERS[type];
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
      entry = this.#messageEntry(event, type, key, tid, seq);
    } else if (type === "event_delta" && str(event.event_id) !== null && track.byId.has(event.event_id)) {
      // A piece of a preview: appended to the previewed entry's text.
      const at = track.byId.get(event.event_id);
      const cur = this.#entryAt(track, at);
      if (cur?.kind === "event") {
        const piece = event.delta?.content?.text;
        // (Its id is not indexed: the library delivers a delta once, and the trim only knows
        // the ids an entry holds.)
        this.#setEntry(track, at, freeze({ ...cur, preview: (cur.preview ?? "") + (typeof piece === "string" ? piece : "") }));
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

  /** A sent or received message, paired with the other side if it came already. */
  #messageEntry(event, type, key, tid, seq) {
    const sent = type === SENT;
    const from = str(event.from_session_thread_id) ?? (sent ? tid : null);
    const to = str(event.to_session_thread_id) ?? (sent ? null : tid);
    let entry = { kind: "thread_message", key, side: sent ? "sent" : "received", sent: sent ? event : null, received: sent ? null : event };
    if (from !== null && to !== null) {
      const pair = `${from}\n${to}`;
      const other = this.#takePending(sent ? this.#pendingReceived : this.#pendingSent, pair);
      const oe = other && this.#entryAt(other.track, other.seq);
      if (oe?.kind === "thread_message") {
        this.#setEntry(other.track, other.seq, freeze({ ...oe, [sent ? "sent" : "received"]: event }));
        entry[sent ? "received" : "sent"] = sent ? oe.received : oe.sent;
      } else {
        const queue = sent ? this.#pendingSent : this.#pendingReceived;
        if (!queue.has(pair)) queue.set(pair, []);
        const list = queue.get(pair);
        list.push({ track: this.#tracks.get(tid), seq });
        // Receipts that never come (a ThreadStream sees one side only) must not pile up.
        if (list.length > this.#max) list.shift();
      }
    }
    return freeze(entry);
  }

  /** The oldest waiting entry of a pair still in its timeline. */
  #takePending(queue, pair) {
    const list = queue.get(pair);
    while (list?.length) {
      const p = list.shift();
      if (p.seq >= p.track.dropped) {
        if (!list.length) queue.delete(pair);
        return p;
      }
    }
    queue.delete(pair);
    return undefined;
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
      const pseq = ptrack?.byId.get(partner.id);
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
      for (const e of [entry.event, entry.use, entry.result, entry.confirmation, entry.sent, entry.received]) {
        const id = str(e?.id);
        if (id !== null && track.byId.get(id) === track.dropped) track.byId.delete(id);
      }
      if (entry.kind === "tool" && track.tools.get(entry.toolUseId) === track.dropped) track.tools.delete(entry.toolUseId);
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
    if (!prev || this.#treeChanged || this.#order.some((id) => threads[id] !== this.#tracks.get(id).current)) {
      threads = Object.create(null);
      for (const id of this.#order) threads[id] = this.#tracks.get(id).current;
      freeze(threads);
    }
    let threadIds = prev?.threadIds ?? EMPTY;
    let rootIds = prev?.rootIds ?? EMPTY;
    if (this.#treeChanged) {
      threadIds = freeze(this.#order.slice());
      rootIds = freeze(this.#order.filter((id) => threads[id].parentId === null));
      this.#treeChanged = false;
    }
    let counts = prev?.counts;
    if (!prev || this.#countsChanged) {
      const c = this.#counts;
      counts = freeze({ events: c.events, updates: c.updates, unknown: c.unknown, errors: c.errors,
        byType: freeze({ ...c.byType }) });
      this.#countsChanged = false;
    }
    let errors = prev?.errors ?? EMPTY;
    if (this.#errorsChanged) {
      errors = freeze(this.#errors.slice());
      this.#errorsChanged = false;
    }
    const session = this.#session.current;
    if (prev && threads === prev.threads && counts === prev.counts && errors === prev.errors
      && session === prev.session && threadIds === prev.threadIds) return prev;
    return freeze({ version: this.#version++, session, threads, threadIds, rootIds, counts, errors });
  }
}

/** Reports a listener's exception the way the streams do: reportError, or a Node warning. */
function report(err) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(err);
  else if (typeof globalThis.process?.emitWarning === "function") globalThis.process.emitWarning(err instanceof Error ? err : String(err), "ThreadtailListenerError");
  else console.error(err);
}

/** A tool entry with its derived state. */
function toolEntry(e) {
  const r = e.result;
  const denied = e.confirmation?.result === "deny";
  const state = r ? (r.is_error === true ? "error" : "done") : denied ? "denied" : "pending";
  return freeze({ kind: "tool", key: e.key, toolUseId: e.toolUseId, use: e.use, confirmation: e.confirmation, result: e.result, state });
}
