// threadtail/tabs, the pure part: what the tabs of an origin decide when they share one stream,
// as plain functions over plain values (no timers, channels, locks or storage), so that
// tests/js/tabs.test.mjs checks them in Node without a browser. js/tabs.js carries the decisions
// out with Web Locks, BroadcastChannel and IndexedDB.
//
// Words used here:
// - member: one shared stream object (a tab may hold several); it has an id and a `mode`:
//   "leader" (runs the network stream), "synced" (a follower delivering the leader's events),
//   "skipping" (a follower ahead of a new leader, dropping what it has until its own last id
//   comes by), "catching" (a late joiner reading its own connection until it meets the leader).
// - position: what a member delivered last: `lastId` (the stream's resume point), `epoch` (the
//   leader generation it counted in) and `n` (the ordinal the leader gave that event). Ids are
//   opaque and never compared for order; ordinals are, within one epoch.

/** Default bounds of the in-memory ring each member keeps (what a leader can hand a late joiner). */
export const RING_LIMITS = Object.freeze({ maxEvents: 2000, maxBytes: 4 << 20 });
/** Default bounds of the persisted cache per stream. */
export const CACHE_LIMITS = Object.freeze({ maxEvents: 200, maxBytes: 1 << 20 });
/** Version of the persisted record: any other is discarded with a warning. */
export const STORE_VERSION = 1;
/** Broadcasts a catching member holds while its own connection catches up (then the oldest go). */
const MAX_HELD = 10000;

// ---- the stream's identity ---------------------------------------------------------------------

/**
 * The parts of the options that decide which events a stream delivers, as one canonical string
 * (the credentials identity is added by the caller: it needs SubtleCrypto, or an app's key).
 * Not in it: the resume point, retry and timing options, `fetch`, `signal`.
 */
export function streamIdentity(kind, options, origin) {
  let base = String(options.baseUrl ?? "");
  try {
    base = new URL(base, origin).href.replace(/\/+$/, "");
  } catch {
    // an invalid base URL: the stream itself reports it (invalid_argument)
  }
  const types = Array.isArray(options.types) ? [...options.types].map(String).sort() : [];
  return JSON.stringify([kind, base, String(options.sessionId ?? ""), kind === "thread" ? String(options.threadId ?? "") : "",
    types, options.history ?? "server", options.transport ?? "fetch"]);
}

/**
 * How the credentials are identified without being stored or posted: `{ shareKey }` given by
 * the app, `{ hash: text }` to digest (a static token and the header values), or `{ none: why }`
 * when a token provider makes the credentials unknowable ahead of a connection.
 */
export function credentialsSource(options, shareKey) {
  if (shareKey !== undefined) return { shareKey: String(shareKey) };
  if (typeof options.token === "function") return { none: "token_provider" };
  const headers = [];
  const h = options.headers;
  if (h && typeof h.forEach === "function" && !Array.isArray(h)) h.forEach((v, k) => headers.push([k.toLowerCase(), String(v)]));
  else if (Array.isArray(h)) for (const [k, v] of h) headers.push([String(k).toLowerCase(), String(v)]);
  else if (h && typeof h === "object") for (const k of Object.keys(h)) headers.push([k.toLowerCase(), String(h[k])]);
  headers.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { hash: JSON.stringify([options.token == null ? null : String(options.token), headers]) };
}

// ---- bounded suffix of delivered events (the ring and the persisted cache) ---------------------

/** An empty bounded list of entries `{ id, at, event, update, size }`, oldest first. */
export function emptyBuffer(complete = false) {
  return { entries: [], bytes: 0, complete };
}

/**
 * Appends one entry and evicts the oldest until both bounds hold. The buffer stays a contiguous
 * suffix of what was delivered: an entry larger than `maxBytes` alone empties it (keeping
 * anything older would leave a hole where that entry was). `complete` (everything since the
 * start of the stream is here) ends at the first eviction. Returns the buffer (changed in place).
 */
export function bufferPush(buffer, entry, limits) {
  if (entry.size > limits.maxBytes || limits.maxEvents < 1) {
    buffer.entries = [];
    buffer.bytes = 0;
    buffer.complete = false;
    return buffer;
  }
  buffer.entries.push(entry);
  buffer.bytes += entry.size;
  let drop = 0;
  while (buffer.entries.length - drop > limits.maxEvents || buffer.bytes > limits.maxBytes) {
    buffer.bytes -= buffer.entries[drop].size;
    drop += 1;
  }
  if (drop > 0) {
    buffer.entries.splice(0, drop);
    buffer.complete = false;
  }
  return buffer;
}

/**
 * The entries after the resume point `at` ("" = from the start), or null when the buffer
 * cannot tell (the point is not in it, or it starts later than the stream's start).
 */
export function bufferAfter(buffer, at) {
  if (at === "") return buffer.complete ? buffer.entries.slice() : null;
  for (let i = buffer.entries.length - 1; i >= 0; i--) {
    if (buffer.entries[i].at === at) return buffer.entries.slice(i + 1);
  }
  return null;
}

/** The size an entry counts for: its JSON length (UTF-16 units, close enough to bytes for a bound). */
export function entrySize(event) {
  try {
    return JSON.stringify(event)?.length ?? 0;
  } catch {
    return Infinity; // not serialisable: never cached
  }
}

// ---- the persisted record ------------------------------------------------------------------------

/** The record written to IndexedDB: the resume point and the cached events; nothing else. */
export function storeRecord(lastId, buffer) {
  return {
    v: STORE_VERSION,
    lastId,
    events: buffer.entries.map((e) => ({ id: e.id, at: e.at, event: e.event })),
    savedAt: Date.now(),
  };
}

/**
 * Checks a record read back. `{ ok: true, lastId, entries }`, or `{ ok: false, problem }` with
 * `problem` "version" (another schema) or "corrupt" (anything else that is not this shape).
 * The cache is then trimmed to `limits` (a smaller bound than when it was written).
 */
export function readRecord(record, limits) {
  if (record === undefined || record === null) return { ok: true, lastId: "", entries: [], empty: true };
  if (typeof record !== "object") return { ok: false, problem: "corrupt" };
  if (record.v !== STORE_VERSION) return { ok: false, problem: typeof record.v === "number" ? "version" : "corrupt" };
  if (typeof record.lastId !== "string" || !Array.isArray(record.events)) return { ok: false, problem: "corrupt" };
  const buffer = emptyBuffer();
  for (const e of record.events) {
    if (!e || typeof e !== "object" || typeof e.at !== "string" || (e.id !== undefined && typeof e.id !== "string") ||
        !e.event || typeof e.event !== "object") {
      return { ok: false, problem: "corrupt" };
    }
    bufferPush(buffer, { id: e.id, at: e.at, event: e.event, update: false, size: entrySize(e.event) }, limits);
  }
  // The cache ends where the resume point is, or it would show events the stream sends again.
  const last = buffer.entries[buffer.entries.length - 1];
  if (last && last.at !== record.lastId) return { ok: false, problem: "corrupt" };
  return { ok: true, lastId: record.lastId, entries: buffer.entries };
}

// ---- ids delivered recently (a follower's safety net against duplicates) -----------------------

/** A set of the `cap` most recent ids. */
function recentIds(cap = 4096) {
  return { set: new Set(), order: [], cap };
}

export function rememberId(recent, id) {
  if (id === undefined || id === "" || recent.set.has(id)) return;
  recent.set.add(id);
  recent.order.push(id);
  if (recent.order.length > recent.cap) recent.set.delete(recent.order.shift());
}

// ---- members: join, follow, catch up, hand over ------------------------------------------------

/**
 * A member's position and mode. `lastId` is where it starts (its stored or given resume point);
 * `recent` the ids it has delivered already (a persisted cache's).
 */
export function createMember(lastId = "", deliveredIds = []) {
  const recent = recentIds();
  for (const id of deliveredIds) rememberId(recent, id);
  return { mode: "joining", lastId, epoch: 0, n: 0, recent, held: [], sync: null };
}

/** Records a delivered item in the member's position. */
function delivered(member, item) {
  member.lastId = item.at;
  if (item.n !== undefined) member.n = item.n;
  if (item.epoch !== undefined) member.epoch = item.epoch;
  if (!item.update) rememberId(member.recent, item.id);
}

/**
 * A follower's answer to broadcast items `{ id, at, event, update, epoch, n }` (in order):
 * the items to hand to its listeners, each once. Synced: the current epoch's items past its
 * ordinal. Skipping: nothing until its own last id comes by (a new leader resumed from an older
 * tab's point), then what follows. Catching: held until its own connection meets the leader.
 */
export function followItems(member, items) {
  const out = [];
  for (const item of items) {
    if (member.mode === "catching") {
      if (item.id !== undefined && member.recent.set.has(item.id) && !item.update) {
        // The leader sends what this member's own connection delivered already: it is ahead of
        // the leader (or level). Stop catching up; skip until the leader reaches this point.
        member.mode = item.at === member.lastId ? "synced" : "skipping";
        member.held = [];
        member.sync = null;
        if (member.mode === "synced") { member.epoch = item.epoch; member.n = item.n; }
        continue;
      }
      member.held.push(item);
      if (member.held.length > MAX_HELD) {
        member.held.shift();
        member.sync = null; // the leader's point may be gone with it: meet by a held id only
      }
      continue;
    }
    if (member.mode === "skipping") {
      if (item.at === member.lastId && (member.recent.set.has(item.id) || item.id === undefined || item.id === "")) {
        member.mode = "synced";
        member.epoch = item.epoch;
        member.n = item.n;
      }
      continue;
    }
    if (member.mode !== "synced") continue;
    if (item.epoch !== member.epoch || item.n <= member.n) continue;
    if (!item.update && item.id !== undefined && member.recent.set.has(item.id)) {
      member.n = item.n; // seen already (delivered from a cache or a catch-up): count it, skip it
      continue;
    }
    delivered(member, item);
    out.push(item);
  }
  return out;
}

/**
 * The leader's answer to a joiner at `at` with its ring: `{ items }` (the events after that
 * point, which the joiner delivers and is then synced) or `{ items: null }` (it must catch up
 * with its own connection). Either way with the leader's position.
 */
export function syncReply(leader, ring, at) {
  const items = at === leader.lastId ? [] : bufferAfter(ring, at);
  return { at: leader.lastId, epoch: leader.epoch, n: leader.n, items };
}

/**
 * A joiner receives the leader's sync reply: events to deliver now, and whether it must open
 * its own connection to catch up (`catchUp: true`, from its own last id, until it meets the
 * leader at `reply.at` or at an event the leader broadcasts).
 */
export function joinWith(member, reply) {
  if (member.mode !== "joining" && member.mode !== "catching") return { deliver: [], catchUp: false };
  if (reply.items === null) {
    member.mode = "catching";
    member.held = []; // broadcasts before the reply are at or before reply.at
    member.sync = { at: reply.at, epoch: reply.epoch, n: reply.n };
    return { deliver: [], catchUp: true };
  }
  const deliver = [];
  let n = reply.n - reply.items.length;
  for (const e of reply.items) {
    n += 1;
    const item = { ...e, epoch: reply.epoch, n };
    if (!item.update && item.id !== undefined && member.recent.set.has(item.id)) { member.lastId = item.at; continue; }
    delivered(member, item);
    deliver.push(item);
  }
  member.mode = "synced";
  member.lastId = reply.at;
  member.epoch = reply.epoch;
  member.n = reply.n;
  member.held = [];
  member.sync = null;
  return { deliver, catchUp: false };
}

/**
 * A catching member's own connection delivered `item` `{ id, at, event, update }`. Returns
 * `{ deliver, caughtUp }`: the item unless already delivered, and, once it meets the leader
 * (its point at the reply, or an event the leader broadcast meanwhile), the held broadcasts
 * that follow, after which it closes its own connection and follows.
 */
export function catchUpItem(member, item) {
  if (member.mode !== "catching") return { deliver: [], caughtUp: false };
  const deliver = [];
  const dup = !item.update && item.id !== undefined && member.recent.set.has(item.id);
  if (!dup) {
    delivered(member, item);
    deliver.push(item);
  }
  let met = null;
  const heldAt = member.held.findIndex((h) => h.at === item.at && h.id === item.id);
  if (heldAt >= 0) met = { from: heldAt + 1, epoch: member.held[heldAt].epoch, n: member.held[heldAt].n };
  else if (member.sync !== null && item.at === member.sync.at) met = { from: 0, epoch: member.sync.epoch, n: member.sync.n };
  if (met === null) return { deliver, caughtUp: false };
  const rest = member.held.slice(met.from);
  member.mode = "synced";
  member.held = [];
  member.sync = null;
  member.epoch = met.epoch;
  member.n = met.n;
  for (const h of rest) {
    if (!h.update && h.id !== undefined && member.recent.set.has(h.id)) continue;
    delivered(member, h);
    deliver.push(h);
  }
  return { deliver, caughtUp: true };
}

/**
 * A catching member that becomes the leader keeps its own connection as the leader's: it is
 * the source from its own point on, in a new epoch (the members that follow are ahead of it
 * and skip until their own last id comes by).
 */
export function promoteCatching(member, epoch) {
  member.mode = "synced";
  member.held = [];
  member.sync = null;
  member.epoch = epoch;
  member.n = 0;
}

/** What a member reports when a new leader asks where everyone is. */
export function positionReport(member) {
  return { lastId: member.lastId, epoch: member.epoch, n: member.n, mode: member.mode };
}

/**
 * Where a new leader resumes, so that no tab has a gap: the oldest position among the members
 * that follow (reports of the highest epoch present: every later epoch's followers are behind
 * the members still skipping from an earlier one), itself included. Members catching up or
 * still joining are left out: they read their own connection (or say hello again) and meet the
 * new leader as they met the old one. A new leader that was catching up or joining itself
 * resumes from its own point (`own: true`): it is behind every member that follows (they skip
 * until their own last id comes by), and a point that is not comparable cannot be trusted to be
 * older. Returns `{ at, own }`.
 */
export function handoverPoint(self, reports) {
  if (self.mode === "catching" || self.mode === "joining") return { at: self.lastId, own: true };
  const following = [self, ...reports.filter((r) => r.mode === "synced" || r.mode === "skipping")];
  const top = Math.max(...following.map((r) => r.epoch));
  let oldest = null;
  for (const r of following) {
    if (r.epoch === top && (oldest === null || r.n < oldest.n)) oldest = r;
  }
  return { at: oldest.lastId, own: false };
}

/**
 * A member (the new leader itself included) hears that a new leader resumes from `lead.at` in
 * a new epoch `lead.epoch`, counting from 0. At that point: synced in the new epoch. Further
 * (every other member that reported is at or past the oldest point): skip until its own last
 * id comes by. Not asked (its report came too late, so it may be behind) or catching:
 * `{ rejoin: true }`, it says hello again.
 */
export function followLeader(member, lead, memberId) {
  if (member.mode === "catching" || member.mode === "joining" || !lead.asked.includes(memberId)) {
    if (member.mode === "synced" || member.mode === "skipping") member.mode = "joining";
    return { rejoin: true };
  }
  if (member.lastId === lead.at) {
    member.mode = "synced";
    member.epoch = lead.epoch;
    member.n = 0;
  } else {
    member.mode = "skipping";
  }
  return { rejoin: false };
}

/** The members a new leader waits for: everyone known but itself and the one that left. */
export function awaited(known, self, departed) {
  return [...known].filter((m) => m !== self && m !== departed);
}
