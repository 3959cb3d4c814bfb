// "Every event once, in order", whatever the ids look like and whether or not the server
// honours Last-Event-ID: the reference server with random UUID ids, and small scripted
// loopback servers for what it does not do (non-ASCII and huge ids, id-only blocks, updates of
// listed events, session backfill across timestamp formats).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import * as tt from "../../pkg/node.js";
import { initSync } from "../../pkg/threadtail.js";
import { startServer, TOKEN, record, waitFor, prng } from "./helpers/server.mjs";

/** The wasm instance's memory (initSync hands back the running instance). */
const wasmMemory = () => initSync({ module: readFileSync(new URL("../../pkg/threadtail_bg.wasm", import.meta.url)) }).memory;

/**
 * A scripted loopback server: `handle(req, res, n)` answers the n-th request (from 0); every
 * request is recorded with the raw bytes of its Last-Event-ID header (Node reads header values
 * as latin1, one character per byte).
 */
async function scripted(handle) {
  const requests = [];
  const server = createServer((req, res) => {
    const raw = req.headers["last-event-id"];
    requests.push({ url: req.url, lastEventIdBytes: raw === undefined ? undefined : Buffer.from(raw, "latin1") });
    handle(req, res, requests.length - 1);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}/v1`;
  return {
    base,
    requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

const sse = (res, text, end = true) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(text);
  if (end) res.end();
};

/** How many bytes of stream it takes the server to send a thread's history up to `lastId`. */
async function historyBytes(server, ids, lastId) {
  const res = await fetch(`${server.base}/sessions/${ids.sessionId}/threads/${ids.threadId}/stream`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: AbortSignal.timeout(10000),
  });
  const reader = res.body.getReader();
  let bytes = 0;
  let tail = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return bytes;
    bytes += value.length;
    tail = (tail + Buffer.from(value).toString("latin1")).slice(-400);
    if (tail.includes(lastId)) {
      await reader.cancel();
      return bytes;
    }
  }
}

const FAST = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0, healthyAfterMs: 0 };

// ---------------------------------------------------------------------------------------------
// The reference server with random, unsortable ids, 5,000 events and 200 drops.

let servers = {};
before(async () => {
  const [honours, replays] = await Promise.all([
    startServer(["--ids", "uuid", "--keepalive-ms", "1000"]),
    startServer(["--ids", "uuid", "--ignore-last-event-id", "--keepalive-ms", "1000"]),
  ]);
  servers = { honours, replays };
});
after(() => Promise.all(Object.values(servers).map((s) => s.stop())));

const N = 5000;
const DROPS = 200;

for (const mode of ["honours", "replays"]) {
  test(`uuid ids, ${N} events, ${DROPS} drops, a server that ${mode === "honours" ? "honours Last-Event-ID" : "replays from the start on every reconnect"}: each once, in order`, async () => {
    const server = servers[mode];
    const seed = Number(process.env.THREADTAIL_SEED ?? Date.now() % 100000);
    const rnd = prng(seed);
    const ids = await server.thread();
    const texts = Array.from({ length: N }, (_, i) => `event ${i} 日本 ${"é".repeat(i % 5)}`);
    const stored = await server.batch(ids.sessionId, ids.threadId, {
      events: texts.map((text) => ({ type: "agent.message", content: [{ type: "text", text }] })),
    });
    assert.equal(stored.count, N);
    const listed = [];
    for await (const e of tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids, limit: 1000 })) listed.push(e.id);
    assert.equal(listed.length, N);
    const sorted = [...listed].sort();
    assert.notDeepEqual(listed, sorted, "the ids do not sort in creation order");

    // Each connection is cut: after a random number of bytes when the server honours the
    // header; when it replays, at a point that grows, so that each connection gets further.
    const total = await historyBytes(server, ids, listed.at(-1));
    console.log(`history: ${total} bytes`);
    let cut = 0;
    let armed = 0;
    const sent = [];
    const delivered = [];
    const wrapped = async (url, init) => {
      sent.push({ header: init.headers["Last-Event-ID"], delivered: delivered.at(-1)?.id });
      if (armed < DROPS) {
        armed++;
        let at;
        if (mode === "honours") {
          // Half the history in all, on average: the drops never run out of stream.
          at = 1 + Math.floor(rnd() * (total / DROPS));
        } else if (rnd() < 0.2) {
          // Dropped inside the replay, before it reaches what was delivered.
          at = 1 + Math.floor(rnd() * cut);
        } else {
          // Further each time, within the history.
          cut = Math.max(cut, Math.floor(total * (armed - 1 + rnd()) / DROPS));
          at = cut + 1;
        }
        const fault = { count: 1, close_after_bytes: at };
        if (rnd() < 0.2) fault.abort = true;
        await server.faults(fault);
      } else {
        await server.faults();
      }
      return fetch(url, init);
    };
    const s = new tt.ThreadStream({ baseUrl: server.base, token: TOKEN, ...ids, fetch: wrapped, retry: FAST });
    const r = record(s);
    s.onEvent((e) => delivered.push(e));
    try {
      await waitFor(() => delivered.length >= N && armed === DROPS && s.state === "open", {
        timeoutMs: 60000, what: `all events and drops (seed ${seed})`,
      }).catch((e) => {
        throw new Error(`${e.message}: ${delivered.length} delivered, ${armed} drops, state ${s.state}`);
      });
    } finally {
      s.close();
    }
    assert.equal(delivered.length, N, `seed ${seed}`);
    for (let i = 0; i < N; i++) {
      if (delivered[i].content[0].text !== texts[i]) assert.fail(`event ${i}: ${delivered[i].content[0].text} (seed ${seed})`);
    }
    assert.deepEqual(delivered.map((e) => e.id), listed);
    assert.ok(r.metas.every((m) => m.update === false));
    assert.ok(sent.length > DROPS);
    for (const [i, x] of sent.entries()) {
      assert.equal(x.header, x.delivered, `connection ${i} sent ${x.header}, delivered ${x.delivered}`);
    }
    assert.ok(r.errors.every((e) => e.kind === "network"), r.errors.map((e) => e.kind).join());
  });
}

// ---------------------------------------------------------------------------------------------
// Scripted servers.

test("ids that do not sort are all delivered (evt_0005 then evt_0003)", async () => {
  const srv = await scripted((req, res) => {
    sse(res, 'id: evt_0005\ndata: {"type":"a"}\n\nid: evt_0003\ndata: {"type":"b"}\n\nid: evt_0004\nevent: session.thread_status_terminated\ndata: {}\n\n');
  });
  try {
    const s = new tt.ThreadStream({ baseUrl: srv.base, sessionId: "sess_o", threadId: "sthr_o", retry: FAST });
    const r = record(s);
    await waitFor(() => s.state === "closed");
    assert.deepEqual(r.events.map((e) => e.id), ["evt_0005", "evt_0003", "evt_0004"]);
  } finally {
    await srv.close();
  }
});

test("a non-ASCII id resumes: the server receives its UTF-8 bytes", async () => {
  const ids = ["evt_日本", "é", "evt_…"];
  const srv = await scripted((req, res, n) => {
    if (n < ids.length) sse(res, `id: ${ids[n]}\ndata: {"n":${n}}\n\n`);
    else sse(res, 'event: session.thread_status_terminated\ndata: {}\n\n');
  });
  try {
    const s = new tt.ThreadStream({ baseUrl: srv.base, sessionId: "sess_u", threadId: "sthr_u", retry: FAST });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "the end" });
    assert.deepEqual(r.events.slice(0, 3).map((e) => e.id), ids);
    assert.equal(srv.requests.length, 4);
    assert.equal(srv.requests[0].lastEventIdBytes, undefined);
    for (let i = 0; i < ids.length; i++) {
      assert.deepEqual([...srv.requests[i + 1].lastEventIdBytes], [...Buffer.from(ids[i], "utf8")], `request ${i + 1}`);
    }
    assert.deepEqual([...srv.requests[2].lastEventIdBytes], [0xc3, 0xa9]);
    assert.deepEqual(r.errors, []);
  } finally {
    await srv.close();
  }
});

test("the reference server decodes a non-ASCII Last-Event-ID as UTF-8", async () => {
  const server = servers.honours;
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, { type: "agent.message", content: "x" });
  await server.clearRequests();
  const s = new tt.ThreadStream({ baseUrl: server.base, token: TOKEN, ...ids, lastEventId: "evt_日本", retry: FAST });
  const r = record(s);
  await waitFor(() => r.errors.length > 0, { what: "the 400" });
  s.close();
  assert.equal(r.errors[0].kind, "invalid_request");
  assert.match(r.errors[0].serverMessage, /evt_日本/);
  const log = await server.streamRequests();
  assert.equal(log[0].headers["last-event-id"], "evt_日本");
});

test("an id-only block moves the resume point and an empty id clears it, as in EventSource", async () => {
  const srv = await scripted((req, res, n) => {
    if (n === 0) sse(res, 'id: a\ndata: {}\n\nid: b\n\n');
    else if (n === 1) sse(res, 'id: c\ndata: {}\n\nid:\ndata: {}\n\n');
    else sse(res, 'event: session.thread_status_terminated\ndata: {}\n\n');
  });
  try {
    const s = new tt.ThreadStream({ baseUrl: srv.base, sessionId: "sess_i", threadId: "sthr_i", retry: FAST });
    const seen = [];
    s.onEvent(() => seen.push(s.lastEventId));
    await waitFor(() => s.state === "closed", { what: "the end" });
    assert.deepEqual(srv.requests.map((q) => q.lastEventIdBytes?.toString("utf8")), [undefined, "b", undefined]);
    assert.deepEqual(seen, ["a", "c", "", ""]);
  } finally {
    await srv.close();
  }
});

test("40 events with 4 MB ids: delivered, memory bounded, reported once, resume from the last id that fits", async () => {
  const BIG = 4 * 1024 * 1024;
  const COUNT = 40;
  const mem = wasmMemory();
  const before = mem.buffer.byteLength;
  const srv = await scripted((req, res, n) => {
    if (n === 0) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('id: evt_small\ndata: {"n":-1}\n\n');
      let i = 0;
      const next = () => {
        if (i === COUNT) return res.end();
        const id = `${String(i).padStart(4, "0")}${"x".repeat(BIG)}`;
        res.write(`id: ${id}\ndata: {"n":${i}}\n\n`, () => { i++; next(); });
      };
      next();
    } else {
      sse(res, 'id: evt_after\ndata: {"n":100}\n\nevent: session.thread_status_terminated\ndata: {}\n\n');
    }
  });
  try {
    const s = new tt.ThreadStream({ baseUrl: srv.base, sessionId: "sess_b", threadId: "sthr_b", retry: FAST, maxEventBytes: 16 * 1024 * 1024 });
    let count = 0;
    const ns = [];
    const errors = [];
    s.onEvent((e) => {
      count++;
      ns.push(e.n);
    });
    s.onError((e) => errors.push(e));
    await waitFor(() => s.state === "closed", { timeoutMs: 30000, what: "the end" });
    const growth = mem.buffer.byteLength - before;
    console.log(`wasm memory grew ${(growth / 1048576).toFixed(1)} MB (to ${(mem.buffer.byteLength / 1048576).toFixed(1)} MB) while ${COUNT} ids of 4 MB went by`);
    assert.equal(count, COUNT + 3);
    assert.deepEqual(ns.slice(0, COUNT + 2), [-1, ...Array.from({ length: COUNT }, (_, i) => i), 100]);
    assert.ok(growth < 64 * 1024 * 1024, `grew ${growth} bytes`);
    const unresumable = errors.filter((e) => e.kind === "unresumable_id");
    assert.equal(unresumable.length, 1, "reported once");
    assert.ok(unresumable[0].message.length < 600 && !unresumable[0].message.includes("xxxxxxxx"), "the id is not quoted");
    assert.equal(srv.requests[1].lastEventIdBytes.toString("utf8"), "evt_small");
  } finally {
    await srv.close();
  }
});

test("an event listed over REST, then streamed with other data, arrives again as an update", async () => {
  const queued = { id: "sevt_1", type: "user.message", content: "hi", processed_at: null };
  const same = { id: "sevt_2", type: "agent.message", content: "same" };
  const srv = await scripted((req, res) => {
    if (req.url.includes("/events?")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [queued, same], next_page: null }));
      return;
    }
    const processed = { ...queued, processed_at: "2026-12-03T10:00:00Z" };
    // The unchanged event in another formatting: the same event, not an update.
    sse(res, `id: sevt_2\nevent: agent.message\ndata: { "id": "sevt_2", "type": "agent.message", "content": "same" }\n\nid: sevt_1\nevent: user.message\ndata: ${JSON.stringify(processed)}\n\nevent: session.thread_status_terminated\ndata: {}\n\n`);
  });
  try {
    const s = new tt.ThreadStream({ baseUrl: srv.base, sessionId: "sesn_l", threadId: "sthr_l", history: "backfill", retry: FAST });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "the end" });
    assert.deepEqual(r.events.map((e) => [e.id, e.processed_at ?? null]), [
      ["sevt_1", null], ["sevt_2", null], ["sevt_1", "2026-12-03T10:00:00Z"], [undefined, null],
    ]);
    assert.deepEqual(r.metas.map((m) => m.update), [false, false, true, false]);
  } finally {
    await srv.close();
  }
});

test("session backfill orders events by created_at as instants, whatever the digits and offsets", async () => {
  const threads = [{ id: "sthr_a", type: "session_thread" }, { id: "sthr_b", type: "session_thread" }];
  const events = {
    sthr_a: [
      { id: "e1", type: "agent.message", created_at: "2026-06-15T08:00:00Z" },
      { id: "e4", type: "agent.message", created_at: "2026-06-15T17:00:00.9+09:00" },
    ],
    sthr_b: [
      { id: "e2", type: "agent.message", created_at: "2026-06-15T08:00:00.5Z" },
      { id: "e3", type: "agent.message", created_at: "2026-06-15T08:00:00.75Z" },
      { id: "e5", type: "agent.message", created_at: "2026-06-15T03:00:01-05:00" },
    ],
  };
  const srv = await scripted((req, res) => {
    const m = /\/threads\/(sthr_\w)\/events/.exec(req.url);
    if (m || /\/threads\?/.test(req.url)) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: m ? events[m[1]] : threads, next_page: null }));
      return;
    }
    sse(res, "event: session.deleted\ndata: {}\n\n");
  });
  try {
    const s = new tt.SessionStream({ baseUrl: srv.base, sessionId: "sesn_s", history: "backfill", retry: FAST });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "the end" });
    assert.deepEqual(r.events.map((e) => e.id).slice(0, 5), ["e1", "e2", "e3", "e4", "e5"]);
  } finally {
    await srv.close();
  }
});

test("listed events whose id or type carry a line break, and thread ids that are not ids, cannot corrupt the stream", async () => {
  const paths = [];
  const srv = await scripted((req, res) => {
    paths.push(req.url);
    if (/\/threads\?/.test(req.url)) {
      res.writeHead(200, { "content-type": "application/json" });
      // The second "thread id" would climb out of the path.
      return res.end(JSON.stringify({ data: [{ id: "sthr_a" }, { id: "../../admin" }, { id: "sthr b" }], next_page: null }));
    }
    if (req.url.includes("/threads/sthr_a/events")) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ data: [
        { id: "e\r1", type: "agent.message", n: 1, created_at: "2026-01-01T00:00:01Z" },
        { id: "e2", type: "agent\r\nmessage", n: 2, created_at: "2026-01-01T00:00:02Z" },
        { id: "e3", type: "agent.message", n: 3, created_at: "2026-01-01T00:00:03Z" },
      ], next_page: null }));
    }
    if (req.url.includes("/events?")) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ data: [], next_page: null }));
    }
    sse(res, "event: session.deleted\ndata: {}\n\n");
  });
  try {
    const s = new tt.SessionStream({ baseUrl: srv.base, sessionId: "sesn_c", history: "backfill", retry: FAST });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "the end" });
    assert.deepEqual(r.events.slice(0, 3).map((e) => e.n), [1, 2, 3]);
    assert.equal(r.events[2].id, "e3");
    // A line break cannot travel in an SSE field: such an id is not taken as one (it would be a
    // resume point no header can carry).
    assert.deepEqual(r.errors, []);
    assert.equal(s.lastEventId, "e3");
    // A server's thread id stays one path segment, and one that is not an id is not requested.
    assert.ok(paths.every((p) => p.startsWith("/v1/sessions/sesn_c/") && !p.includes("/../")), paths.join(" "));
    assert.ok(paths.some((p) => p.includes("/threads/..%2F..%2Fadmin/events")), paths.join(" "));
    assert.ok(!paths.some((p) => p.includes("sthr%20b") || p.includes("sthr b")), paths.join(" "));
  } finally {
    await srv.close();
  }
});
