// Ending a stream: close() in every phase, AbortSignal, leaving a for-await loop; and the
// robustness of the glue: bad options, a garbage fetch, garbage bodies.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tt from "../../pkg/node.js";
import { useServers, TOKEN, record, waitFor, sleep, FAST } from "./helpers/server.mjs";

let server;
const streams = useServers([["--keepalive-ms", "1000"]], ([s]) => (server = s));

function open(ids, options = {}) {
  const s = new tt.ThreadStream({ baseUrl: server.base, token: TOKEN, retry: FAST, ...ids, ...options });
  streams.push(s);
  return s;
}
const msg = (text) => ({ type: "agent.message", content: text });
const openStreams = async () => (await server.status()).open_streams;

test("close() while open: the connection ends, state closed once, no request after", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  await waitFor(() => s.state === "open");
  await waitFor(async () => (await openStreams()) === 1);
  s.close();
  s.close(); // idempotent
  assert.equal(s.state, "closed");
  await waitFor(async () => (await openStreams()) === 0, { what: "server sees the close" });
  await server.event(ids.sessionId, ids.threadId, msg("late"));
  await sleep(80);
  assert.deepEqual(r.states, ["open", "closed"]);
  assert.deepEqual(r.events, []);
  assert.deepEqual(r.errors, [], "closing is not an error");
  assert.equal((await server.streamRequests()).length, 1);
});

test("close() during a pending reconnect: the timer is cancelled, no request after it", async () => {
  const ids = await server.thread();
  await server.faults({ count: 1, status: 503 });
  const s = open(ids, { retry: { initialDelayMs: 150, maxDelayMs: 150, minDelayMs: 150 } });
  const r = record(s);
  await waitFor(() => s.state === "reconnecting", { what: "reconnecting" });
  assert.equal(r.reconnects.length, 1);
  assert.equal(r.reconnects[0].delayMs, 150);
  s.close();
  assert.equal(s.state, "closed");
  await sleep(300); // twice the delay
  assert.equal((await server.streamRequests()).length, 1);
  assert.deepEqual(r.states, ["reconnecting", "closed"]);
});

test("close() from an onReconnect listener: no request after it", async () => {
  const ids = await server.thread();
  await server.faults({ count: 1, status: 503 });
  const s = open(ids, { retry: { initialDelayMs: 5, maxDelayMs: 5, minDelayMs: 5 } });
  s.onReconnect(() => s.close());
  await waitFor(() => s.state === "closed");
  await sleep(50);
  assert.equal((await server.streamRequests()).length, 1);
});

test("close() during an in-flight fetch: the fetch is aborted, no request reaches the server", async () => {
  const ids = await server.thread();
  let signal;
  let resumed = false;
  const s = open(ids, {
    fetch: async (url, init) => {
      signal = init.signal;
      await sleep(100); // the request is "in flight"
      resumed = true;
      return fetch(url, init);
    },
  });
  const r = record(s);
  await waitFor(() => signal !== undefined, { what: "fetch called" });
  s.close();
  assert.equal(signal.aborted, true, "close() aborts the request signal");
  await waitFor(() => resumed);
  await sleep(100);
  assert.equal((await server.streamRequests()).length, 0);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.states, ["closed"]);
});

test("close() while the response head is awaited (stalled server): no further request", async () => {
  const ids = await server.thread();
  await server.faults({ count: 1, stall_ms: 2000 });
  const s = open(ids);
  const r = record(s);
  await waitFor(async () => (await openStreams()) === 1, { what: "connected" });
  s.close();
  await waitFor(async () => (await openStreams()) === 0, { what: "disconnected" });
  await sleep(100);
  assert.equal((await server.streamRequests()).length, 1);
  assert.deepEqual(r.errors, []);
});

test("close() from inside an event listener stops delivery at once", async () => {
  const ids = await server.thread();
  await server.batch(ids.sessionId, ids.threadId, { count: 10, template: msg("{i}") });
  const s = open(ids);
  const got = [];
  s.onEvent((e) => {
    got.push(e.content);
    if (got.length === 3) s.close();
  });
  await waitFor(() => s.state === "closed");
  await sleep(50);
  assert.deepEqual(got, ["0", "1", "2"]);
});

test("AbortSignal: aborting closes the stream and the connection", async () => {
  const ids = await server.thread();
  const ac = new AbortController();
  const s = open(ids, { signal: ac.signal });
  const r = record(s);
  await waitFor(async () => s.state === "open" && (await openStreams()) === 1);
  ac.abort();
  await waitFor(() => s.state === "closed", { what: "closed by the signal" });
  await waitFor(async () => (await openStreams()) === 0);
  await sleep(60);
  assert.equal((await server.streamRequests()).length, 1);
  assert.deepEqual(r.errors, []);
  // an already-aborted signal: closed at once, nothing sent
  await server.clearRequests();
  const s2 = open(ids, { signal: AbortSignal.abort() });
  await sleep(60);
  assert.equal(s2.state, "closed");
  assert.equal((await server.streamRequests()).length, 0);
});

test("leaving a for-await loop closes the stream and its connection", async () => {
  const ids = await server.thread();
  await server.batch(ids.sessionId, ids.threadId, { count: 5, template: msg("{i}") });
  const s = open(ids);
  const got = [];
  for await (const e of s) {
    got.push(e.content);
    if (got.length === 2) break;
  }
  assert.deepEqual(got, ["0", "1"]);
  assert.equal(s.state, "closed");
  await waitFor(async () => (await openStreams()) === 0, { what: "connection closed" });
  await sleep(60);
  assert.equal((await server.streamRequests()).length, 1);
});

test("for await ends (done) when the thread terminates", async () => {
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, msg("a"));
  await server.event(ids.sessionId, ids.threadId, { type: "session.thread_status_terminated" });
  const s = open(ids);
  const got = [];
  for await (const e of s) got.push(e.type);
  assert.deepEqual(got, ["agent.message", "session.thread_status_terminated"]);
  assert.equal(s.state, "closed");
});

test("on(type) and the unsubscribe function", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const a = [];
  const b = [];
  const offA = s.on("agent.message", (e) => a.push(e.content));
  s.on("agent.thinking", (e) => b.push(e.type));
  await server.event(ids.sessionId, ids.threadId, msg("1"));
  await server.event(ids.sessionId, ids.threadId, { type: "agent.thinking" });
  await waitFor(() => a.length === 1 && b.length === 1);
  offA();
  offA();
  await server.event(ids.sessionId, ids.threadId, msg("2"));
  await server.event(ids.sessionId, ids.threadId, { type: "agent.thinking" });
  await waitFor(() => b.length === 2);
  assert.deepEqual(a, ["1"]);
});

test("a listener that throws does not stop the stream or other listeners", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const reported = [];
  const saved = globalThis.reportError;
  globalThis.reportError = (e) => reported.push(e);
  try {
    s.onEvent(() => {
      throw new Error("app bug");
    });
    const r = record(s);
    await server.event(ids.sessionId, ids.threadId, msg("1"));
    await server.event(ids.sessionId, ids.threadId, msg("2"));
    await waitFor(() => r.events.length === 2);
    assert.equal(reported.length, 2);
    assert.equal(s.state, "open");
  } finally {
    globalThis.reportError = saved;
  }
});

// ---- robustness: options and garbage -------------------------------------------------------

test("bad options throw ThreadtailError kind invalid_argument", () => {
  const good = { baseUrl: server.base, sessionId: "sess_x", threadId: "sthr_y", token: TOKEN };
  const bad = [
    undefined,
    null,
    "options",
    42,
    {},
    { ...good, baseUrl: undefined },
    { ...good, baseUrl: 42 },
    { ...good, baseUrl: "" },
    { ...good, baseUrl: "ftp://example.com/v1" },
    { ...good, baseUrl: "not a url" },
    { ...good, baseUrl: `${server.base}?x=1` },
    { ...good, sessionId: undefined },
    { ...good, sessionId: "" },
    { ...good, sessionId: 7 },
    { ...good, threadId: "sthr_y\n" },
    { ...good, threadId: "a b" },
    { ...good, threadId: {} },
    { ...good, token: 42 },
    { ...good, token: {} },
    { ...good, headers: 5 },
    { ...good, headers: "x-a: b" },
    { ...good, headers: { "bad name": "v" } },
    { ...good, headers: { "x-a": "line\r\nbreak" } },
    { ...good, types: 5 },
    { ...good, types: [1] },
    { ...good, types: ["a b"] },
    { ...good, retry: "fast" },
    { ...good, retry: { initialDelayMs: -1 } },
    { ...good, retry: { initialDelayMs: "10" } },
    { ...good, retry: { maxDelayMs: NaN } },
    { ...good, retry: { initialDelayMs: 5000, maxDelayMs: 10 } },
    { ...good, retry: { maxAttempts: -2 } },
    { ...good, idleTimeoutMs: "1s" },
    { ...good, idleTimeoutMs: -5 },
    { ...good, maxEventBytes: 0 },
    { ...good, maxEventBytes: "1MB" },
    { ...good, fetch: "fetch" },
    { ...good, fetch: {} },
    { ...good, transport: "websocket" },
    { ...good, transport: 1 },
    { ...good, transport: "eventsource" }, // with a token
    { ...good, token: undefined, headers: { "x-api-key": "k" }, transport: "eventsource" },
    { ...good, history: "all" },
    { ...good, signal: {} },
    { ...good, signal: "abort" },
    { ...good, lastEventId: "a\nb" },
    { ...good, lastEventId: 5 },
  ];
  for (const options of bad) {
    for (const Class of [tt.ThreadStream, tt.SessionStream]) {
      let s;
      try {
        s = new Class(options);
      } catch (e) {
        assert.ok(e instanceof tt.ThreadtailError, `${Class.name} ${String(e)}`);
        assert.equal(e.kind, "invalid_argument", e.message);
        assert.equal(e.retryable, false);
        assert.ok(!e.message.includes(TOKEN));
        continue;
      }
      s.close();
      // a SessionStream ignores threadId; everything else must have thrown
      const onlyThread = options && "threadId" in options && options.threadId !== good.threadId;
      assert.ok(Class === tt.SessionStream && onlyThread, `${Class.name} accepted ${JSON.stringify(options)}`);
    }
  }
  for (const options of [undefined, null, 5, {}, { baseUrl: server.base }, { baseUrl: server.base, sessionId: "" }, { baseUrl: server.base, sessionId: "s", fetch: 1 }, { baseUrl: server.base, sessionId: "s", limit: "x" }, { baseUrl: server.base, sessionId: "s", limit: 0 }, { baseUrl: server.base, sessionId: "s", maxAttempts: -1 }, { baseUrl: server.base, sessionId: "s", headers: "x-a: b" }]) {
    assert.throws(() => tt.listThreads(options), (e) => e instanceof tt.ThreadtailError && e.kind === "invalid_argument");
    assert.throws(() => tt.listThreadEvents(options), (e) => e instanceof tt.ThreadtailError && e.kind === "invalid_argument");
  }
});

test("a custom fetch returning garbage: network errors and retries, never a crash", async () => {
  const ids = { sessionId: "sess_g", threadId: "sthr_g" };
  const garbage = [
    () => 42,
    () => undefined,
    () => ({}),
    () => ({ status: 200, headers: 5 }),
    () => Promise.reject(new TypeError("offline")),
    () => {
      throw new Error("sync throw");
    },
    () => Promise.resolve("not a response"),
    () => new Response("data: x\n\n", { status: 200 }), // no content type
    () => ({ status: 200, headers: new Headers({ "content-type": "text/event-stream" }), body: 7 }),
    () => ({ status: 200, headers: new Headers({ "content-type": "text/event-stream" }), body: { getReader: () => ({ read: async () => ({ done: false, value: 42 }), cancel: async () => {} }) } }),
    () => ({ status: 200, headers: new Headers({ "content-type": "text/event-stream" }), body: { getReader: () => ({ read: async () => { throw new Error("read fails"); }, cancel: async () => {} }) } }),
    () => ({ status: "200", headers: null }),
    () => new Response(null, { status: 500 }),
    () => new Response("{not json", { status: 400, headers: { "content-type": "application/json" } }),
  ];
  for (const [i, make] of garbage.entries()) {
    let calls = 0;
    const s = new tt.ThreadStream({
      baseUrl: "http://127.0.0.1:9/v1",
      token: TOKEN,
      ...ids,
      fetch: () => (calls++, make()),
      retry: { initialDelayMs: 1, maxDelayMs: 2, minDelayMs: 0, maxAttempts: 2 },
    });
    streams.push(s);
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: `garbage ${i} ends`, timeoutMs: 3000 });
    assert.ok(calls >= 1, `garbage ${i} used the custom fetch`);
    assert.ok(r.errors.length >= 1, `garbage ${i} reported`);
    for (const e of r.errors) {
      assert.ok(e instanceof tt.ThreadtailError, `garbage ${i}: ${e}`);
      assert.ok(["network", "content_type", "server", "invalid_request", "http"].includes(e.kind), `garbage ${i}: ${e.kind}`);
    }
  }
  // the thrown and rejected cases are network errors, retried (maxAttempts 2 => 3 calls)
});

test("garbage bodies from the server never crash; the good events still arrive", async () => {
  const ids = await server.thread();
  const frames = [
    "\0\0\0\n\n",
    "data\n\n", // an empty data event: not JSON
    "id: \0bad\ndata: {}\n\n",
    "event: \ndata: null\n\n",
    "data: 12\n\n",
    ":::::\n\n",
    "retry: 99999999999999999999999999999\n\n",
    "\r\r\r\n\n\r",
    "data: {\"type\": 5, \"id\": []}\n\n",
    "event: agent.message\ndata: \"just a string\"\n\n",
    "field without colon\n\n",
    "data: \uFFFF\uD7FF\n\n",
  ];
  const s = open(ids);
  const r = record(s);
  await server.event(ids.sessionId, ids.threadId, msg("before"));
  for (const f of frames) await server.event(ids.sessionId, ids.threadId, { type: "agent.message", _raw_frame: f });
  await server.event(ids.sessionId, ids.threadId, msg("after"));
  await waitFor(() => r.events.some((e) => e.content === "after"), { what: "after" });
  const texts = r.events.filter((e) => e.type === "agent.message").map((e) => e.content);
  assert.deepEqual(texts, ["before", "after"]);
  assert.ok(r.errors.every((e) => e instanceof tt.ThreadtailError && e.kind === "decode"), r.errors.map((e) => e.kind).join());
  assert.ok(r.errors.length >= 5);
  assert.equal(s.state, "open");
  // the `{"type": 5, "id": []}` event is delivered as the JSON says (unknown fields kept)
  assert.equal((await server.streamRequests()).length, 1);
});

test("a custom fetch with a random-bytes body: no crash, the parser survives", async () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const bytes = new Uint8Array(200000).map(() => Math.floor(rnd() * 256));
  // sprinkle line ends so that events are dispatched now and then
  for (let i = 0; i < bytes.length; i += 97) bytes[i] = 10;
  const s = new tt.ThreadStream({
    baseUrl: "http://127.0.0.1:9/v1",
    sessionId: "sess_r",
    threadId: "sthr_r",
    token: TOKEN,
    maxEventBytes: 4096,
    fetch: async () => new Response(bytes, { headers: { "content-type": "text/event-stream" } }),
    retry: { initialDelayMs: 1, maxDelayMs: 2, minDelayMs: 0, maxAttempts: 1 },
  });
  streams.push(s);
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed", timeoutMs: 5000 });
  assert.ok(r.errors.every((e) => e instanceof tt.ThreadtailError));
});

test("a fetch that ignores the abort signal and never answers: the idle timeout still reconnects", async () => {
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, msg("a"));
  let calls = 0;
  const s = open(ids, {
    idleTimeoutMs: 200,
    retry: { initialDelayMs: 5, maxDelayMs: 10, minDelayMs: 1 },
    fetch: (url, init) => (calls++ === 0 ? new Promise(() => {}) : fetch(url, init)),
  });
  const r = record(s);
  await waitFor(() => r.events.length === 1, { what: "event after the timeout", timeoutMs: 2000 });
  assert.equal(calls, 2);
  assert.deepEqual(r.errors.map((e) => e.kind), ["timeout"]);
  // and close() ends a stream whose fetch never answers, without a later request
  const s2 = open(ids, { fetch: () => new Promise(() => {}) });
  const r2 = record(s2);
  await sleep(20);
  s2.close();
  await sleep(50);
  assert.deepEqual(r2.states, ["closed"]);
  assert.deepEqual(r2.errors, []);
});

test("a body whose reader never answers: the idle timeout fires, then a reconnect", async () => {
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, msg("a"));
  let calls = 0;
  const stuck = () => ({
    status: 200,
    headers: new Headers({ "content-type": "text/event-stream" }),
    body: { getReader: () => ({ read: () => new Promise(() => {}), cancel: () => {} }) },
  });
  const s = open(ids, {
    idleTimeoutMs: 150,
    retry: { initialDelayMs: 5, maxDelayMs: 10, minDelayMs: 1 },
    fetch: (url, init) => (calls++ === 0 ? stuck() : fetch(url, init)),
  });
  const r = record(s);
  await waitFor(() => r.events.length === 1, { what: "event after the timeout", timeoutMs: 2000 });
  assert.deepEqual(r.errors.map((e) => e.kind), ["timeout"]);
});

test("backoff resets after a connection stayed healthy (healthyAfterMs)", async () => {
  const ids = await server.thread();
  await server.faults({ count: 3, status: 503 });
  const s = open(ids, { retry: { initialDelayMs: 5, maxDelayMs: 100, minDelayMs: 1, healthyAfterMs: 80 } });
  const r = record(s);
  await waitFor(() => s.state === "open");
  await sleep(150);
  await server.control("POST", "/disconnect");
  await waitFor(() => r.reconnects.length === 4);
  assert.deepEqual(r.reconnects.map((x) => x.attempt), [1, 2, 3, 1]);
  assert.equal(s.reconnects, 4);
});

test("close() while the token provider is pending: no request is sent", async () => {
  const ids = await server.thread();
  let asked = 0;
  const s = open(ids, { token: () => (asked++, sleep(100).then(() => TOKEN)) });
  const r = record(s);
  await sleep(20);
  s.close();
  await sleep(150);
  assert.equal(asked, 1);
  assert.equal((await server.streamRequests()).length, 0);
  assert.deepEqual(r.states, ["closed"]);
});

test("transport: eventsource in Node (no native EventSource) says so and closes", async () => {
  const ids = await server.thread();
  const s = new tt.ThreadStream({ baseUrl: server.base, ...ids, transport: "eventsource" });
  streams.push(s);
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed" });
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].kind, "invalid_argument");
  assert.match(r.errors[0].message, /no native EventSource/);
  assert.deepEqual(r.events, []);
});

test("a custom body may yield strings, ArrayBuffers and other views: all are bytes", async () => {
  const enc = new TextEncoder();
  const frame = (n) => `id: e${n}\nevent: agent.message\ndata: {"n":${n},"text":"é${n}"}\n\n`;
  const chunks = [
    frame(1),
    enc.encode(frame(2)).buffer,
    new DataView(enc.encode("xx" + frame(3)).buffer, 2),
    // An even number of bytes (an extra blank line when needed) for a Uint16Array.
    new Uint16Array(enc.encode(enc.encode(frame(4)).length % 2 ? frame(4) + "\n" : frame(4)).buffer),
    'data: {"type":"session.thread_status_terminated"}\n\n',
  ];
  const s = new tt.ThreadStream({
    baseUrl: "http://threadtail.invalid", sessionId: "sess_b", threadId: "sthr_b", token: TOKEN,
    fetch: async () => ({
      status: 200,
      headers: new Headers({ "content-type": "text/event-stream" }),
      body: { getReader: () => ({ read: async () => (chunks.length ? { done: false, value: chunks.shift() } : { done: true }), cancel: async () => {} }) },
    }),
  });
  streams.push(s);
  const seen = [];
  s.onEvent((e) => seen.push(e));
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed" });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(seen.map((e) => [e.id, e.n, e.text]), [["e1", 1, "é1"], ["e2", 2, "é2"], ["e3", 3, "é3"], ["e4", 4, "é4"], [undefined, undefined, undefined]]);
});
