// threadtail/tabs: one network connection per stream for all the tabs of an origin, and a
// resume after a reload from an IndexedDB cache.
//
//   import { SharedThreadStream } from "threadtail/tabs";
//   const stream = new SharedThreadStream({ baseUrl, sessionId, threadId, token, persist: true });
//   stream.onEvent((event, meta) => render(event, meta.cached));
//
// Why plain JavaScript on top of the public ThreadStream / SessionStream, and not in the wasm:
// leadership (Web Locks), the channel between tabs (BroadcastChannel) and the cache (IndexedDB)
// are browser objects with asynchronous callbacks; the wasm would only carry them across the
// boundary and grow for everyone. This module costs nothing to those who do not import it.
//
// How it works (README "Across tabs and reloads"; the decisions are pure functions in
// tabs-core.js, tested in tests/js/tabs.test.mjs, the whole in tests/e2e/tabs.e2e.mjs):
// - The sharing key is the stream's identity (base URL, session, thread, filter, history,
//   transport) and a credentials identity that is not the secret: the SHA-256 of the token and
//   header values (SubtleCrypto), or the app's `shareKey`. A token provider without a `shareKey`
//   cannot be identified before a connection: such a stream does not share.
// - Every member asks for the Web Lock named from the key; the one holding it leads: it runs the
//   real stream and posts each event, with its resume point and an ordinal, on the
//   BroadcastChannel of the key. The others deliver those to their own listeners.
// - A late joiner says hello with its resume point; the leader answers with the events after it
//   from a bounded ring of recent events, or, when the point is not in the ring, with its own
//   position: the joiner then reads its own connection from its own point until it meets the
//   leader, and closes it. Asking first means no second connection in the common case (a new tab
//   with the history in the ring, a reloaded tab whose stored point is recent).
// - The lock is released when the leading tab closes, crashes or calls close(); the next member
//   in the lock's queue asks every member where it is (a short round) and resumes from the
//   oldest position, so that no tab has a gap; members further on drop what they have until
//   their own last id comes by, so that none has a duplicate.
// - Without Web Locks or BroadcastChannel, or without a credentials identity, the stream opens
//   its own connection (role "own"), with a warning of kind "not_shared".
// - `persist`: each member writes its resume point and a bounded cache of recent events (never a
//   token or a header) to IndexedDB; after a reload the cached events are delivered first with
//   `meta.cached === true`, then the stream resumes from the stored point. A store that is
//   corrupt, of another version or over quota is discarded with a warning; the stream goes on.
import { ThreadStream, SessionStream, ThreadtailError } from "./index.js";
import {
  streamIdentity, credentialsSource, emptyBuffer, bufferPush, entrySize, storeRecord, readRecord,
  createMember, followItems, syncReply, joinWith, catchUpItem, positionReport, handoverPoint,
  followLeader, promoteCatching, awaited, RING_LIMITS, CACHE_LIMITS,
} from "./tabs-core.js";

const PREFIX = "threadtail:";
/** How long a new leader waits for the members' positions (they answer in a few ms). */
const WHO_TIMEOUT_MS = 150;
/** A joiner says hello again when no leader answered for this long (the leader may be starting). */
const HELLO_RETRY_MS = 1000;
/** Writes of the persisted cache are batched over this long. */
const SAVE_DELAY_MS = 50;
const DB_NAME = "threadtail";
const DB_VERSION = 1;
const DB_STORE = "streams";

const noop = () => {};
const invalid = (message) => new ThreadtailError("threadtail/tabs: " + message, { kind: "invalid_argument", retryable: false });

function report(fn, a, b) {
  try {
    fn(a, b);
  } catch (e) {
    if (typeof reportError === "function") reportError(e);
    else queueMicrotask(() => { throw e; });
  }
}

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- IndexedDB ------------------------------------------------------------------------------------

const request = (req) => new Promise((ok, fail) => {
  req.onsuccess = () => ok(req.result);
  req.onerror = () => fail(req.error);
});
let database;
function openDatabase() {
  if (database === undefined) {
    database = new Promise((ok, fail) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(DB_STORE)) req.result.createObjectStore(DB_STORE);
      };
      req.onsuccess = () => ok(req.result);
      req.onerror = () => fail(req.error);
      req.onblocked = () => fail(new Error("the database is held open at another version"));
    });
    database.catch(() => { database = undefined; });
  }
  return database;
}
async function transact(mode, fn) {
  const db = await openDatabase();
  const tx = db.transaction(DB_STORE, mode);
  const result = fn(tx.objectStore(DB_STORE));
  await new Promise((ok, fail) => {
    tx.oncomplete = ok;
    tx.onerror = () => fail(tx.error);
    tx.onabort = () => fail(tx.error ?? new Error("aborted"));
  });
  return result;
}

// ---- the shared stream -----------------------------------------------------------------------------

class SharedStream {
  #kind;
  #options;
  #Stream;
  #id = Math.random().toString(36).slice(2) + Date.now().toString(36);
  #listeners = { event: new Set(), error: new Set(), state: new Set(), reconnect: new Set(), warning: new Set(), role: new Set() };
  #state = "connecting";
  #role = "starting";
  #closed = false;
  #reconnects = 0;
  #member;
  #ring = emptyBuffer(true);
  #stream = null; // the network stream: the leader's, an own one, or a catch-up connection
  #catching = false; // #stream is a catch-up connection
  #channel = null;
  #known = new Set();
  #leaderId = null;
  #maxEpoch = 0;
  #reports = null;
  #queue = [];
  #leadEpoch = 0;
  #leadN = 0;
  #abort = new AbortController();
  #release = noop;
  #helloTimer = 0;
  #persist = null; // { key, limits, cache, timer, off }
  #iterators = new Set();

  constructor(kind, Stream, options) {
    if (!options || typeof options !== "object") throw invalid("options must be an object");
    const { share = true, shareKey, persist = false, signal, ...rest } = options;
    if (typeof share !== "boolean") throw invalid("share must be true or false");
    if (shareKey !== undefined && (typeof shareKey !== "string" || shareKey === "")) throw invalid("shareKey must be a non-empty string");
    if (persist !== true && persist !== false && (typeof persist !== "object" || persist === null)) {
      throw invalid("persist must be true, false or { key, maxEvents, maxBytes }");
    }
    const limits = { ...CACHE_LIMITS };
    if (typeof persist === "object") {
      for (const k of ["maxEvents", "maxBytes"]) {
        if (persist[k] !== undefined) {
          if (!(Number.isInteger(persist[k]) && persist[k] >= 0)) throw invalid(`persist.${k} must be an integer >= 0`);
          limits[k] = persist[k];
        }
      }
      if (persist.key !== undefined && (typeof persist.key !== "string" || persist.key === "")) throw invalid("persist.key must be a non-empty string");
    }
    // The stream's own checks (ids, base URL, options), thrown from here as the stream's
    // constructor would: a probe that never fetches.
    if (rest.transport !== "eventsource") {
      const probe = new AbortController();
      probe.abort();
      new Stream({ ...rest, signal: probe.signal, fetch: () => new Promise(noop) }).close();
    }
    this.#kind = kind;
    this.#Stream = Stream;
    this.#options = rest;
    this.#member = createMember(typeof rest.lastEventId === "string" ? rest.lastEventId : "");
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.close());
      else signal.addEventListener("abort", () => this.close(), { once: true });
    }
    this.#start(share, shareKey, persist, limits).catch((e) => {
      // Not expected: say so and follow with an own connection rather than nothing.
      this.#warn("not_shared", `sharing failed (${e && e.message}); this tab follows with its own connection`);
      if (!this.#closed && !this.#stream) this.#runOwn();
    });
  }

  // ---- public surface (the listener API of ThreadStream) ----

  on(type, listener) {
    return this.onEvent((event, meta) => { if (event.type === type) listener(event, meta); });
  }
  onEvent(listener) { return this.#add("event", listener); }
  onError(listener) { return this.#add("error", listener); }
  onStateChange(listener) { return this.#add("state", listener); }
  onReconnect(listener) { return this.#add("reconnect", listener); }
  /** Problems of the sharing or the cache that do not stop the stream: `{ kind, message }`. */
  onWarning(listener) { return this.#add("warning", listener); }
  /** "starting" | "leader" | "follower" | "own" | "closed". */
  onRoleChange(listener) { return this.#add("role", listener); }
  get lastEventId() { return this.#member.lastId; }
  get state() { return this.#state; }
  get role() { return this.#role; }
  get reconnects() { return this.#reconnects; }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#helloTimer);
    this.#abort.abort();
    this.#flush();
    this.#post({ t: "bye" });
    this.#stopStream();
    this.#release();
    this.#channel?.close();
    this.#channel = null;
    this.#save(true);
    this.#setRole("closed");
    this.#setState("closed");
    for (const it of this.#iterators) it.end();
  }

  events() {
    const queue = [];
    let wake = null;
    let done = false;
    const off = this.onEvent((event) => { queue.push(event); wake?.(); });
    const it = {
      end: () => { done = true; off(); wake?.(); },
      next: async () => {
        while (!queue.length && !done) await new Promise((ok) => { wake = ok; });
        wake = null;
        return queue.length ? { value: queue.shift(), done: false } : { value: undefined, done: true };
      },
      return: async () => { it.end(); this.close(); return { value: undefined, done: true }; },
      [Symbol.asyncIterator]() { return it; },
    };
    this.#iterators.add(it);
    if (this.#closed) it.end();
    return it;
  }
  [Symbol.asyncIterator]() { return this.events(); }

  // ---- start ----

  async #start(share, shareKey, persist, limits) {
    await null; // after the constructor returns: warnings and events reach listeners attached then
    const identity = streamIdentity(this.#kind, this.#options, globalThis.location?.href);
    const creds = credentialsSource(this.#options, shareKey);
    let key = null;
    let why = "";
    if (creds.shareKey !== undefined) key = JSON.stringify([identity, "key", creds.shareKey]);
    else if (creds.none) why = "the token is a provider function: give shareKey (an identity of the user that is not the secret) to share";
    else if (globalThis.crypto?.subtle) key = await sha256(JSON.stringify([identity, creds.hash]));
    else why = "no SubtleCrypto here (an insecure context) to identify the credentials: give shareKey to share";

    if (persist) await this.#load(typeof persist === "object" && persist.key ? persist.key : key, limits);
    if (this.#closed) return;

    const locks = globalThis.navigator?.locks;
    if (share && key !== null && locks && typeof BroadcastChannel === "function") return this.#join(key, locks);
    if (share) {
      this.#warn("not_shared", why || "no Web Locks or BroadcastChannel here: this tab follows with its own connection");
    }
    this.#runOwn();
  }

  // ---- persistence ----

  async #load(key, limits) {
    if (key === null) {
      this.#warn("persist_unavailable", "not persisted: the credentials cannot be identified; give persist.key or shareKey");
      return;
    }
    if (typeof indexedDB === "undefined") {
      this.#warn("persist_unavailable", "not persisted: no IndexedDB here");
      return;
    }
    const storeKey = PREFIX + key;
    let record;
    try {
      record = await transact("readonly", (store) => request(store.get(storeKey)));
      record = await record;
    } catch (e) {
      this.#warn(e?.name === "VersionError" ? "persist_version" : "persist_unavailable", `not persisted: the cache cannot be opened (${e?.name ?? e})`);
      return;
    }
    const read = readRecord(record, limits);
    this.#persist = { key: storeKey, limits, cache: emptyBuffer(), timer: 0, off: false };
    if (!read.ok) {
      this.#warn(read.problem === "version" ? "persist_version" : "persist_corrupt",
        `the stored cache is ${read.problem === "version" ? "of another version" : "unreadable"}: discarded`);
      transact("readwrite", (store) => store.delete(storeKey)).catch(noop);
      return;
    }
    if (this.#closed || read.empty) return;
    // Nothing has used the member yet (the stream joins after this).
    this.#member = createMember(read.lastId, read.entries.map((e) => e.id));
    this.#ring.complete = false;
    // Delivered in a later task: listeners are attached right after the constructor.
    this.#deliver(read.entries, true);
  }

  #save(now = false) {
    const p = this.#persist;
    if (!p || p.off) return;
    clearTimeout(p.timer);
    p.timer = 0;
    const write = () => {
      p.timer = 0;
      const record = storeRecord(this.#member.lastId, p.cache);
      transact("readwrite", (store) => store.put(record, p.key)).catch((e) => {
        if (p.off) return;
        p.off = true;
        const quota = e?.name === "QuotaExceededError";
        this.#warn(quota ? "persist_quota" : "persist_unavailable",
          `the cache could not be written (${e?.name ?? e}): discarded, no longer persisted`);
        transact("readwrite", (store) => store.delete(p.key)).catch(noop);
      });
    };
    if (now) write();
    else p.timer = setTimeout(write, SAVE_DELAY_MS);
  }

  // ---- delivery ----

  #deliver(items, cached = false) {
    if (!items.length) return;
    for (const item of items) {
      if (this.#closed) return;
      const size = entrySize(item.event);
      const entry = { id: item.id, at: item.at, event: item.event, update: !!item.update, size };
      bufferPush(this.#ring, entry, RING_LIMITS);
      if (this.#persist) bufferPush(this.#persist.cache, entry, this.#persist.limits);
      const meta = { update: !!item.update, cached };
      for (const fn of [...this.#listeners.event]) report(fn, item.event, meta);
    }
    if (!cached && this.#persist && !this.#persist.timer) this.#save();
  }

  // ---- the network stream (leader, own, catch-up) ----

  #openStream(from, onItem) {
    const options = { ...this.#options };
    delete options.lastEventId;
    if (from !== "") options.lastEventId = from;
    let stream;
    try {
      stream = new this.#Stream(options);
    } catch (e) {
      this.#emitError(e);
      this.close();
      return;
    }
    this.#stream = stream;
    stream.onEvent((event, meta) => {
      if (this.#stream !== stream) return;
      onItem({ id: event.id, at: stream.lastEventId, event, update: !!meta?.update });
    });
    stream.onError((e) => {
      if (this.#stream !== stream || this.#catching) return;
      this.#emitError(e);
      this.#post({ t: "error", error: { ...e, message: e.message } });
    });
    stream.onReconnect((info) => {
      if (this.#stream !== stream || this.#catching) return;
      this.#reconnects += 1;
      this.#emit("reconnect", info);
      this.#post({ t: "reconnect", info });
    });
    stream.onStateChange((state) => {
      if (this.#stream !== stream) return;
      if (this.#catching) {
        if (state === "closed") this.#stream = null; // the leader's events still come
        return;
      }
      if (state === "closed") {
        // Over for good (a terminal event or a fatal error): every member ends with it.
        this.#flush();
        this.#post({ t: "end" });
        this.#stream = null;
        this.close();
        return;
      }
      this.#setState(state);
      this.#post({ t: "state", state });
    });
  }

  #stopStream() {
    const s = this.#stream;
    this.#stream = null;
    this.#catching = false;
    s?.close();
  }

  #runOwn() {
    this.#setRole("own");
    promoteCatching(this.#member, 1);
    this.#leadEpoch = 1;
    this.#leadN = 0;
    this.#openStream(this.#member.lastId, (item) => this.#fromLeaderStream(item));
  }

  /** An event of the leader's (or an own) stream: numbered, posted, delivered here. */
  #fromLeaderStream(item) {
    this.#leadN += 1;
    item.epoch = this.#leadEpoch;
    item.n = this.#leadN;
    if (this.#role === "leader") {
      if (!this.#queue.length) queueMicrotask(() => this.#flush());
      this.#queue.push(item);
    }
    this.#deliver(followItems(this.#member, [item]));
  }

  #flush() {
    if (!this.#queue.length) return;
    const items = this.#queue;
    this.#queue = [];
    this.#post({ t: "ev", items });
  }

  // ---- the channel ----

  #post(message) {
    if (!this.#channel) return;
    try {
      this.#channel.postMessage({ ...message, from: this.#id });
    } catch (e) {
      // An event that cannot be cloned: the followers would miss it; say so.
      this.#warn("not_shared", `an event could not be posted to the other tabs (${e?.name ?? e})`);
    }
  }

  #join(key, locks) {
    this.#channel = new BroadcastChannel(PREFIX + key);
    this.#channel.onmessage = ({ data }) => { if (!this.#closed && data && data.from !== this.#id) this.#onMessage(data); };
    this.#setRole("follower");
    this.#hello();
    locks.request(PREFIX + key, { signal: this.#abort.signal }, () => {
      if (this.#closed) return undefined;
      const held = new Promise((ok) => { this.#release = ok; });
      this.#lead().catch((e) => {
        this.#emitError(e instanceof ThreadtailError ? e : invalid(String(e?.message ?? e)));
        this.close();
      });
      return held;
    }).catch(noop); // aborted by close() while waiting
  }

  #hello() {
    clearTimeout(this.#helloTimer);
    this.#post({ t: "hello", at: this.#member.lastId });
    this.#helloTimer = setTimeout(() => {
      if (!this.#closed && this.#role === "follower" && this.#member.mode === "joining") this.#hello();
    }, HELLO_RETRY_MS);
  }

  #onMessage(m) {
    const member = this.#member;
    switch (m.t) {
      case "hello":
        this.#known.add(m.from);
        this.#post({ t: "here", to: m.from });
        if (this.#role === "leader") {
          this.#flush(); // the reply's position is after every event posted so far
          const reply = member.mode === "synced" ? syncReply(member, this.#ring, m.at) : { at: null, epoch: 0, n: 0, items: null };
          this.#post({ t: "sync", to: m.from, state: this.#state, ...reply });
        }
        break;
      case "here":
        if (m.to === this.#id) this.#known.add(m.from);
        break;
      case "bye":
        this.#known.delete(m.from);
        break;
      case "sync": {
        if (m.to !== this.#id || this.#role !== "follower") break;
        clearTimeout(this.#helloTimer);
        this.#leaderId = m.from;
        this.#maxEpoch = Math.max(this.#maxEpoch, m.epoch);
        this.#setState(m.state);
        const reply = { ...m, items: m.items };
        if (reply.at === null) reply.at = "\u0000none"; // meet by an event the leader posts
        const { deliver, catchUp } = joinWith(member, reply);
        if (catchUp) {
          if (!this.#stream) {
            this.#catching = true;
            this.#openStream(member.lastId, (item) => this.#fromCatchUp(item));
          }
        } else if (this.#catching) {
          this.#stopStream();
        }
        this.#deliver(deliver);
        break;
      }
      case "ev": {
        if (this.#role !== "follower") break;
        this.#leaderId = m.from;
        for (const item of m.items) this.#maxEpoch = Math.max(this.#maxEpoch, item.epoch);
        const wasCatching = member.mode === "catching";
        const out = followItems(member, m.items);
        if (wasCatching && member.mode !== "catching" && this.#catching) this.#stopStream();
        this.#deliver(out);
        break;
      }
      case "state":
        if (this.#role === "follower") this.#setState(m.state);
        break;
      case "error":
        if (this.#role === "follower" && member.mode !== "catching") {
          const { message, ...props } = m.error;
          this.#emitError(new ThreadtailError(message, props));
        }
        break;
      case "reconnect":
        if (this.#role === "follower") {
          this.#reconnects += 1;
          this.#emit("reconnect", m.info);
        }
        break;
      case "end":
        if (this.#role === "follower" && m.from === this.#leaderId) this.close();
        break;
      case "who":
        this.#known.add(m.from);
        this.#maxEpoch = Math.max(this.#maxEpoch, m.epoch ?? 0);
        this.#post({ t: "at", to: m.from, nonce: m.nonce, ...positionReport(member) });
        break;
      case "at":
        if (m.to === this.#id && this.#reports && m.nonce === this.#reports.nonce) {
          this.#maxEpoch = Math.max(this.#maxEpoch, m.epoch);
          this.#reports.got.set(m.from, m);
          this.#reports.check();
        }
        break;
      case "lead": {
        this.#known.add(m.from);
        this.#leaderId = m.from;
        this.#maxEpoch = Math.max(this.#maxEpoch, m.epoch);
        if (this.#role !== "follower") break;
        this.#setState(m.state);
        const { rejoin } = followLeader(member, m, this.#id);
        if (rejoin) this.#hello();
        break;
      }
    }
  }

  /** A catch-up connection's event: delivered unless seen; on meeting the leader it closes. */
  #fromCatchUp(item) {
    const { deliver, caughtUp } = catchUpItem(this.#member, item);
    if (caughtUp) this.#stopStream();
    this.#deliver(deliver);
  }

  /** The lock is ours: ask where everyone is, resume from the oldest point, post and deliver. */
  async #lead() {
    const departed = this.#leaderId;
    const wait = awaited(this.#known, this.#id, departed);
    if (departed) this.#known.delete(departed);
    const reports = [];
    if (wait.length) {
      const nonce = Math.random();
      await new Promise((ok) => {
        const timer = setTimeout(ok, WHO_TIMEOUT_MS);
        this.#reports = {
          nonce,
          got: new Map(),
          check() { if (wait.every((w) => this.got.has(w))) { clearTimeout(timer); ok(); } },
        };
        this.#post({ t: "who", nonce, epoch: this.#maxEpoch });
      });
      for (const [from, r] of this.#reports.got) reports.push({ ...r, from });
      for (const w of wait) if (!this.#reports.got.has(w)) this.#known.delete(w); // gone
      this.#reports = null;
    }
    if (this.#closed) return;
    clearTimeout(this.#helloTimer);
    const epoch = this.#maxEpoch + 1;
    this.#maxEpoch = epoch;
    this.#leadEpoch = epoch;
    this.#leadN = 0;
    const point = handoverPoint(positionReport(this.#member), reports);
    const lead = { t: "lead", epoch, at: point.at, asked: [this.#id, ...reports.map((r) => r.from)], state: this.#state };
    this.#setRole("leader");
    this.#leaderId = this.#id;
    // A member that was catching up or joining resumes from its own point (it is behind every
    // follower); the others from the oldest follower's point. Either way this member is synced
    // at the point, or ahead of it and skips until its own last id comes by.
    this.#stopStream();
    if (point.own) promoteCatching(this.#member, epoch);
    followLeader(this.#member, lead, this.#id);
    this.#post(lead);
    this.#openStream(point.at, (item) => this.#fromLeaderStream(item));
  }

  // ---- listeners ----

  #add(kind, listener) {
    if (typeof listener !== "function") throw invalid("a listener must be a function");
    const wrapped = (a, b) => listener(a, b);
    this.#listeners[kind].add(wrapped);
    return () => this.#listeners[kind].delete(wrapped);
  }
  #emit(kind, value) {
    for (const fn of [...this.#listeners[kind]]) report(fn, value);
  }
  #emitError(e) { this.#emit("error", e); }
  #warn(kind, message) { this.#emit("warning", { kind, message }); }
  #setState(state) {
    if (!state || state === this.#state || (this.#closed && state !== "closed")) return;
    this.#state = state;
    this.#emit("state", state);
  }
  #setRole(role) {
    if (role === this.#role) return;
    this.#role = role;
    this.#emit("role", role);
  }
}

/** Follows one thread, sharing one connection with the other tabs of the origin. */
export class SharedThreadStream extends SharedStream {
  constructor(options) {
    super("thread", ThreadStream, options);
  }
}

/** Follows every thread of a session, sharing one connection with the other tabs of the origin. */
export class SharedSessionStream extends SharedStream {
  constructor(options) {
    super("session", SessionStream, options);
  }
}
