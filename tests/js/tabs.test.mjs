// threadtail/tabs: the pure decisions (tabs-core.js: bounded cache and ring, the stored record,
// followers' dedupe, catch-up, the hand-over point), then the whole protocol in one Node process:
// several SharedThreadStreams against the reference server, Node's BroadcastChannel between
// them and a small in-process lock manager standing in for Web Locks (a FIFO queue per name,
// as the Web Locks spec grants). The browser run is tests/e2e/tabs.e2e.mjs.
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import {
  emptyBuffer, bufferPush, bufferAfter, entrySize, storeRecord, readRecord, STORE_VERSION,
  createMember, followItems, syncReply, joinWith, catchUpItem, positionReport, handoverPoint,
  followLeader, promoteCatching, streamIdentity, credentialsSource, awaited,
} from "../../pkg/tabs-core.js";
import { startServer, TOKEN } from "./helpers/server.mjs";

const ev = (i, extra = {}) => ({ id: `e${i}`, at: `e${i}`, event: { id: `e${i}`, type: "agent.message", content: `m${i}` }, update: false, size: 10, ...extra });
const ids = (items) => items.map((x) => x.id).join(",");

describe("the bounded cache and ring", () => {
  test("keeps the newest within maxEvents and maxBytes, oldest evicted first", () => {
    const b = emptyBuffer(true);
    for (let i = 1; i <= 5; i++) bufferPush(b, ev(i), { maxEvents: 3, maxBytes: 1000 });
    assert.equal(ids(b.entries), "e3,e4,e5");
    assert.equal(b.bytes, 30);
    assert.equal(b.complete, false, "an eviction ends completeness");
    for (let i = 6; i <= 7; i++) bufferPush(b, ev(i, { size: 25 }), { maxEvents: 10, maxBytes: 60 });
    assert.equal(ids(b.entries), "e5,e6,e7");
    assert.equal(b.bytes, 60);
  });

  test("an event larger than maxBytes empties it (no hole in the middle)", () => {
    const b = emptyBuffer();
    for (let i = 1; i <= 3; i++) bufferPush(b, ev(i), { maxEvents: 10, maxBytes: 100 });
    bufferPush(b, ev(4, { size: 101 }), { maxEvents: 10, maxBytes: 100 });
    assert.deepEqual(b.entries, []);
    bufferPush(b, ev(5), { maxEvents: 10, maxBytes: 100 });
    assert.equal(ids(b.entries), "e5");
    bufferPush(b, ev(6), { maxEvents: 0, maxBytes: 100 });
    assert.deepEqual(b.entries, [], "maxEvents 0 keeps nothing");
  });

  test("the entries after a point; from the start only when complete", () => {
    const b = emptyBuffer(true);
    for (let i = 1; i <= 4; i++) bufferPush(b, ev(i), { maxEvents: 10, maxBytes: 1000 });
    assert.equal(ids(bufferAfter(b, "e2")), "e3,e4");
    assert.equal(ids(bufferAfter(b, "e4")), "");
    assert.equal(ids(bufferAfter(b, "")), "e1,e2,e3,e4");
    assert.equal(bufferAfter(b, "e9"), null);
    b.complete = false;
    assert.equal(bufferAfter(b, ""), null);
    assert.equal(entrySize({ a: "x" }), 9);
  });
});

describe("the stored record", () => {
  const limits = { maxEvents: 10, maxBytes: 10_000 };
  test("round trip: the point and the events, nothing else", () => {
    const b = emptyBuffer();
    for (let i = 1; i <= 3; i++) bufferPush(b, ev(i), limits);
    const rec = storeRecord("e3", b);
    assert.deepEqual(Object.keys(rec).sort(), ["events", "lastId", "savedAt", "v"]);
    assert.deepEqual(Object.keys(rec.events[0]).sort(), ["at", "event", "id"]);
    const back = readRecord(structuredClone(rec), limits);
    assert.equal(back.ok, true);
    assert.equal(back.lastId, "e3");
    assert.equal(ids(back.entries), "e1,e2,e3");
    assert.equal(readRecord(structuredClone(rec), { maxEvents: 2, maxBytes: 10_000 }).entries.length, 2, "trimmed to today's bound");
  });
  test("nothing stored, another version, corrupt", () => {
    assert.equal(readRecord(undefined, limits).empty, true);
    assert.equal(readRecord({ v: STORE_VERSION + 1, lastId: "x", events: [] }, limits).problem, "version");
    for (const bad of ["text", { v: "1" }, { v: STORE_VERSION, lastId: 3, events: [] }, { v: STORE_VERSION, lastId: "a", events: {} },
      { v: STORE_VERSION, lastId: "a", events: [{ at: "a", event: null }] }, { v: STORE_VERSION, lastId: "a", events: [null] }]) {
      assert.equal(readRecord(bad, limits).problem, "corrupt", JSON.stringify(bad));
    }
  });
});

describe("identity", () => {
  test("the stream key: same stream same key; filter order does not matter; the resume point is not in it", () => {
    const o = { baseUrl: "/v1/", sessionId: "s", threadId: "t", types: ["b", "a"], lastEventId: "x" };
    assert.equal(streamIdentity("thread", o, "http://h/"), streamIdentity("thread", { ...o, types: ["a", "b"], lastEventId: "y" }, "http://h/"));
    assert.notEqual(streamIdentity("thread", o, "http://h/"), streamIdentity("thread", { ...o, threadId: "u" }, "http://h/"));
    assert.notEqual(streamIdentity("thread", o, "http://h/"), streamIdentity("session", o, "http://h/"));
  });
  test("credentials: a token provider needs a shareKey; headers count, in any order and form", () => {
    assert.deepEqual(credentialsSource({ token: () => "t" }), { none: "token_provider" });
    assert.deepEqual(credentialsSource({ token: () => "t" }, "user-1"), { shareKey: "user-1" });
    const a = credentialsSource({ token: "t", headers: { "X-B": "2", "x-a": "1" } });
    const b = credentialsSource({ token: "t", headers: [["x-a", "1"], ["x-b", "2"]] });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, credentialsSource({ token: "t2", headers: { "x-a": "1", "x-b": "2" } }));
  });
});

/** A leader member at `at` (epoch 1) with a ring of e1..eN. */
function leaderWith(n) {
  const leader = createMember("");
  promoteCatching(leader, 1);
  const ring = emptyBuffer(true);
  for (let i = 1; i <= n; i++) {
    bufferPush(ring, ev(i), { maxEvents: 100, maxBytes: 10_000 });
    followItems(leader, [{ ...ev(i), epoch: 1, n: i }]);
  }
  return { leader, ring };
}
const numbered = (from, to, epoch = 1) => Array.from({ length: to - from + 1 }, (_, k) => ({ ...ev(from + k), epoch, n: from + k }));

describe("followers", () => {
  test("a joiner whose point is in the leader's ring gets what follows, then follows without duplicates", () => {
    const { leader, ring } = leaderWith(5);
    const j = createMember("e2", ["e1", "e2"]);
    const r = joinWith(j, syncReply(leader, ring, "e2"));
    assert.equal(r.catchUp, false);
    assert.equal(ids(r.deliver), "e3,e4,e5");
    assert.equal(ids(followItems(j, numbered(5, 7))), "e6,e7", "e5 again is dropped by its ordinal");
    assert.equal(j.lastId, "e7");
  });
  test("a fresh joiner gets the whole ring while it is complete", () => {
    const { leader, ring } = leaderWith(3);
    assert.equal(ids(joinWith(createMember(""), syncReply(leader, ring, "")).deliver), "e1,e2,e3");
  });
  test("a joiner the ring cannot serve catches up on its own connection and meets the leader at its point", () => {
    const { leader, ring } = leaderWith(3);
    ring.complete = false;
    const j = createMember("");
    assert.equal(joinWith(j, syncReply(leader, ring, "")).catchUp, true);
    assert.equal(ids(followItems(j, numbered(4, 5))), "", "held while catching up");
    const got = [];
    for (let i = 1; i <= 3; i++) {
      const r = catchUpItem(j, ev(i));
      got.push(...r.deliver);
      assert.equal(r.caughtUp, i === 3);
    }
    assert.equal(ids(got), "e1,e2,e3,e4,e5", "its own, then the held broadcasts");
    assert.equal(ids(followItems(j, numbered(5, 6))), "e6");
  });
  test("catching up: meeting at a held event, and a leader behind the joiner", () => {
    const { leader, ring } = leaderWith(3);
    ring.complete = false;
    const j = createMember("");
    joinWith(j, { ...syncReply(leader, ring, ""), at: "\u0000none" });
    followItems(j, numbered(4, 6));
    const got = [];
    for (let i = 1; i <= 5; i++) got.push(...catchUpItem(j, ev(i)).deliver);
    assert.equal(ids(got), "e1,e2,e3,e4,e5,e6");
    assert.equal(j.mode, "synced");
    // Own connection ahead: the leader posts an event this member has: it skips to its point.
    const k = createMember("");
    joinWith(k, { ...syncReply(leader, ring, ""), at: "\u0000none" });
    for (let i = 1; i <= 6; i++) catchUpItem(k, ev(i));
    assert.equal(ids(followItems(k, numbered(4, 8))), "e7,e8");
  });
  test("an update is delivered again; a plain repeat is not", () => {
    const { leader, ring } = leaderWith(2);
    const j = createMember("e2", ["e1", "e2"]);
    joinWith(j, syncReply(leader, ring, "e2"));
    const items = [{ ...ev(2), epoch: 1, n: 3, update: true }, { ...ev(1), epoch: 1, n: 4 }];
    assert.equal(ids(followItems(j, items)), "e2");
  });
});

describe("hand-over", () => {
  test("the new leader resumes from the oldest follower, in the newest epoch", () => {
    const self = { lastId: "e9", epoch: 3, n: 9, mode: "synced" };
    const reports = [
      { lastId: "e7", epoch: 3, n: 7, mode: "synced" },
      { lastId: "e8", epoch: 3, n: 8, mode: "synced" },
      { lastId: "e2", epoch: 2, n: 40, mode: "skipping" }, // ahead of epoch 3's start
      { lastId: "e1", epoch: 0, n: 0, mode: "catching" },
      { lastId: "", epoch: 0, n: 0, mode: "joining" },
    ];
    assert.deepEqual(handoverPoint(self, reports), { at: "e7", own: false });
    assert.deepEqual(handoverPoint({ ...self, mode: "catching", lastId: "e3" }, reports), { at: "e3", own: true });
    assert.deepEqual(handoverPoint({ ...self, mode: "joining", lastId: "" }, []), { at: "", own: true });
    assert.deepEqual(awaited(new Set(["a", "b", "c"]), "a", "b"), ["c"]);
  });
  test("followers at the point are synced, those further on skip to their own last id, no gap and no duplicate", () => {
    const lead = { epoch: 4, at: "e7", asked: ["L", "A", "B"] };
    const a = createMember("e7", ["e6", "e7"]);
    a.mode = "synced";
    const b = createMember("e9", ["e7", "e8", "e9"]);
    b.mode = "synced";
    const late = createMember("e5");
    late.mode = "synced";
    assert.equal(followLeader(a, lead, "A").rejoin, false);
    assert.equal(followLeader(b, lead, "B").rejoin, false);
    assert.equal(followLeader(late, lead, "C").rejoin, true, "not asked: says hello again");
    const items = numbered(8, 11, 4).map((x, k) => ({ ...x, n: k + 1 }));
    assert.equal(ids(followItems(a, items)), "e8,e9,e10,e11");
    assert.equal(ids(followItems(b, items)), "e10,e11");
    assert.equal(positionReport(b).n, 4);
    // Stale events of the old epoch are ignored.
    assert.equal(ids(followItems(a, numbered(12, 12, 3))), "");
  });
});

// ---- the protocol in one process ----------------------------------------------------------------

/** Web Locks' request(name, { signal }, callback) with a FIFO queue per name. */
function lockManager() {
  const queues = new Map();
  const grant = (name) => {
    const q = queues.get(name);
    if (!q?.length || q.held) return;
    const next = q.shift();
    q.held = true;
    Promise.resolve(next.cb()).then(next.ok, next.fail).finally(() => { q.held = false; grant(name); });
  };
  return {
    request(name, options, cb) {
      return new Promise((ok, fail) => {
        if (!queues.has(name)) queues.set(name, []);
        const entry = { cb, ok, fail };
        queues.get(name).push(entry);
        options.signal?.addEventListener("abort", () => {
          const q = queues.get(name);
          const i = q.indexOf(entry);
          if (i >= 0) { q.splice(i, 1); fail(new DOMException("aborted", "AbortError")); }
        });
        queueMicrotask(() => grant(name));
      });
    },
  };
}

describe("SharedThreadStream in Node (fake Web Locks, Node's BroadcastChannel)", async () => {
  const server = await startServer(["--keepalive-ms", "500"]);
  after(() => server.stop());
  globalThis.navigator ??= {};
  Object.defineProperty(globalThis.navigator, "locks", { value: lockManager(), configurable: true });
  const { SharedThreadStream } = await import("../../pkg/tabs.js");
  const waitFor = async (what, fn, ms = 10_000) => {
    const t0 = Date.now();
    while (!fn()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const requests = async () => (await server.streamRequests()).length;

  function member(t, extra = {}) {
    const got = [];
    const warnings = [];
    const s = new SharedThreadStream({ baseUrl: server.base, token: TOKEN, ...t, idleTimeoutMs: 0, ...extra });
    s.onEvent((e, meta) => got.push({ id: e.id, cached: meta.cached }));
    s.onWarning((w) => warnings.push(w));
    return { s, got, warnings };
  }

  test("three members: one connection; a joiner gets the history from the leader; close() hands over; each event once and in order", async () => {
    await server.clearRequests();
    const t = await server.thread();
    await server.batch(t.sessionId, t.threadId, { count: 20, template: { type: "agent.message", content: "h{i}" } });
    const a = member(t);
    await waitFor("the first member leads", () => a.s.role === "leader" && a.got.length === 20);
    const b = member(t);
    const c = member(t);
    await waitFor("two followers get the history", () => b.got.length === 20 && c.got.length === 20);
    assert.equal(b.s.role, "follower");
    assert.equal(await requests(), 1, "one stream connection for three members");
    await server.batch(t.sessionId, t.threadId, { count: 30, template: { type: "agent.message", content: "l{i}" } });
    await waitFor("live events everywhere", () => [a, b, c].every((m) => m.got.length === 50));
    a.s.close();
    await waitFor("a follower takes over", () => b.s.role === "leader" || c.s.role === "leader");
    await server.batch(t.sessionId, t.threadId, { count: 30, template: { type: "agent.message", content: "m{i}" } });
    await waitFor("events after the hand-over", () => b.got.length === 80 && c.got.length === 80);
    const want = a.got.map((x) => x.id);
    for (const m of [b, c]) {
      assert.deepEqual(m.got.slice(0, 50).map((x) => x.id), want, "the same events, in order");
      assert.equal(new Set(m.got.map((x) => x.id)).size, 80, "each once");
    }
    assert.equal(await requests(), 2, "one more connection: the new leader's");
    b.s.close();
    c.s.close();
    assert.equal(b.s.state, "closed");
  });

  test("a token provider without a shareKey does not share, and says so", async () => {
    const t = await server.thread();
    const m = member(t, { token: () => TOKEN });
    await waitFor("own connection", () => m.s.role === "own");
    assert.equal(m.warnings[0]?.kind, "not_shared");
    m.s.close();
  });

  test("options are checked as the stream checks them, and persist needs somewhere to go", async () => {
    assert.throws(() => new SharedThreadStream({ baseUrl: server.base, sessionId: "", threadId: "t" }), { kind: "invalid_argument" });
    assert.throws(() => new SharedThreadStream({ baseUrl: server.base, sessionId: "s", threadId: "t", persist: { maxEvents: -1 } }), { kind: "invalid_argument" });
    const t = await server.thread();
    const m = member(t, { persist: true });
    await waitFor("a warning", () => m.warnings.some((w) => w.kind === "persist_unavailable"));
    m.s.close();
  });
});
