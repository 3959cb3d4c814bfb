// Retry policy against the devserver's faults: `retry:`, backoff growth and jitter bounds,
// Retry-After on 429/503, fatal statuses, token refresh on 401, content type, idle timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tt from "../../pkg/node.js";
import { useServers, TOKEN, record, waitFor, sleep, FAST } from "./helpers/server.mjs";

let server;
let quiet; // a server with frequent heartbeats, for the idle timeout
const streams = useServers([["--keepalive-ms", "5000"], ["--keepalive-ms", "80"]], (s) => ([server, quiet] = s));

function open(ids, options = {}, srv = server) {
  const s = new tt.ThreadStream({ baseUrl: srv.base, token: TOKEN, retry: FAST, ...ids, ...options });
  streams.push(s);
  return s;
}

const msg = (text) => ({ type: "agent.message", content: text });
const at = (req) => Date.parse(req.at);

/** Runs `fn` with Math.random returning `value` (the library's jitter source). */
async function withRandom(value, fn) {
  const saved = Math.random;
  Math.random = () => value;
  try {
    return await fn();
  } finally {
    Math.random = saved;
  }
}

test("a server `retry:` sets the base delay; `retry: 0` is held at the floor", async () => {
  const ids = await server.thread();
  // the stream ends right after the retry line: the reconnect uses 250 ms as its base
  await server.faults({ count: 1, retry_ms: 250, close_after_bytes: "retry: 250\n\n".length });
  // healthyAfterMs 0: every reconnect starts from the base delay again
  const s = open(ids, { retry: { initialDelayMs: 20000, maxDelayMs: 30000, healthyAfterMs: 0 } });
  const r = record(s);
  await waitFor(() => r.reconnects.length === 1 && s.state === "open", { what: "reconnect" });
  assert.ok(r.reconnects[0].delayMs <= 250, `delay ${r.reconnects[0].delayMs} <= 250 (not 20000)`);
  assert.ok(r.reconnects[0].delayMs >= 100, `delay ${r.reconnects[0].delayMs} >= the 100 ms floor`);
  let reqs = await server.streamRequests();
  assert.equal(reqs.length, 2);
  assert.ok(at(reqs[1]) - at(reqs[0]) >= r.reconnects[0].delayMs - 5, "waited the delay");

  // retry: 0 cannot busy-loop: the delay is the floor (minDelayMs, 100 by default)
  await server.faults({ count: 1, retry_ms: 0, close_after_bytes: "retry: 0\n\n".length });
  await server.control("POST", "/disconnect");
  await waitFor(() => r.reconnects.length === 3 && s.state === "open", { what: "two more reconnects" });
  // reconnect 2: the end of the healthy connection; reconnect 3: after the retry: 0 body
  assert.equal(r.reconnects[2].delayMs, 100);
  reqs = await server.streamRequests();
  assert.equal(reqs.length, 4);
  assert.ok(at(reqs[3]) - at(reqs[2]) >= 95, `${at(reqs[3]) - at(reqs[2])} ms between requests`);
});

test("backoff: exponential growth capped at maxDelayMs, full jitter between floor and cap", async () => {
  const retry = { initialDelayMs: 20, maxDelayMs: 150, minDelayMs: 5 };
  const caps = [20, 40, 80, 150, 150];
  for (const [random, expect] of [
    [0.9999999, caps.map((c) => c - 1)], // the top of each jitter range
    [0, caps.map(() => 5)], // the floor
  ]) {
    await server.reset();
    const t = await server.thread();
    await server.faults({ count: caps.length, status: 503 });
    const r = await withRandom(random, async () => {
      const s = open(t, { retry });
      const r = record(s);
      await waitFor(() => s.state === "open", { what: "open after the 503s" });
      return r;
    });
    streams.pop().close();
    assert.deepEqual(r.reconnects.map((x) => x.delayMs), expect, `random ${random}`);
    assert.deepEqual(r.reconnects.map((x) => x.attempt), [1, 2, 3, 4, 5]);
    assert.ok(r.errors.every((e) => e.kind === "server" && e.status === 503 && e.retryable));
    const reqs = await server.streamRequests();
    assert.equal(reqs.length, caps.length + 1);
    for (let i = 1; i < reqs.length; i++) {
      assert.ok(at(reqs[i]) - at(reqs[i - 1]) >= r.reconnects[i - 1].delayMs - 5, `gap ${i}`);
    }
  }
  // real randomness: every delay within [floor, cap]
  await server.reset();
  const t = await server.thread();
  await server.faults({ count: 8, status: 503 });
  const s = open(t, { retry });
  const r = record(s);
  await waitFor(() => s.state === "open", { what: "open after 8 503s" });
  const allCaps = [20, 40, 80, 150, 150, 150, 150, 150];
  r.reconnects.forEach((x, i) => {
    assert.ok(x.delayMs >= 5 && x.delayMs <= allCaps[i], `delay ${i}: ${x.delayMs} in [5, ${allCaps[i]}]`);
  });
  assert.ok(new Set(r.reconnects.map((x) => x.delayMs)).size > 1, "jittered");
});

test("maxAttempts: gives up after that many failures with a network error, closed", async () => {
  const ids = await server.thread();
  await server.faults({ count: 10, status: 503 });
  const s = open(ids, { retry: { ...FAST, minDelayMs: 1, maxAttempts: 3 } });
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "gave up" });
  assert.equal(r.reconnects.length, 3);
  assert.equal((await server.streamRequests()).length, 4);
  assert.equal(r.errors.at(-1).kind, "network");
  assert.match(r.errors.at(-1).message, /maxAttempts/);
});

test("429 and 503 are retried, honouring Retry-After", async () => {
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, msg("x"));
  await server.faults({ count: 1, status: 429, retry_after: 1 });
  const s = open(ids, { retry: { initialDelayMs: 10, maxDelayMs: 50 } });
  const r = record(s);
  await waitFor(() => r.reconnects.length === 1, { what: "first reconnect" });
  await server.faults({ count: 1, status: 503, retry_after: 1 });
  await waitFor(() => r.events.length === 1, { timeoutMs: 6000, what: "the event" });
  assert.equal(r.reconnects.length, 2);
  const [e429, e503] = r.errors;
  assert.ok(e429 instanceof tt.ThreadtailError);
  assert.equal(e429.kind, "rate_limited");
  assert.equal(e429.status, 429);
  assert.equal(e429.retryable, true);
  assert.equal(e429.type, "rate_limit_error");
  assert.match(e429.requestId, /^req_/);
  assert.equal(e503.kind, "server");
  assert.equal(e503.status, 503);
  assert.equal(e503.retryable, true);
  assert.ok(r.reconnects.every((x) => x.delayMs >= 1000), JSON.stringify(r.reconnects));
  const reqs = await server.streamRequests();
  assert.equal(reqs.length, 3);
  assert.ok(at(reqs[1]) - at(reqs[0]) >= 990, `${at(reqs[1]) - at(reqs[0])} ms after the 429`);
  assert.ok(at(reqs[2]) - at(reqs[1]) >= 990, `${at(reqs[2]) - at(reqs[1])} ms after the 503`);
});

for (const [status, kind, type] of [
  [400, "invalid_request", "invalid_request_error"],
  [401, "authentication", "authentication_error"],
  [403, "permission", "permission_error"],
  [404, "not_found", "not_found_error"],
  [409, "http", "conflict_error"],
  [204, "http", undefined],
]) {
  test(`status ${status} is fatal: kind ${kind}, no reconnect`, async () => {
    const ids = await server.thread();
    await server.faults({ count: 3, status });
    const s = open(ids, { retry: { initialDelayMs: 5, maxDelayMs: 10, minDelayMs: 1 } });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "closed" });
    await sleep(60); // several backoff delays: a reconnect would show in the log
    assert.equal(r.errors.length, 1);
    const e = r.errors[0];
    assert.ok(e instanceof tt.ThreadtailError && e instanceof Error);
    assert.equal(e.kind, kind);
    assert.equal(e.status, status);
    assert.equal(e.retryable, false);
    if (type) assert.equal(e.type, type);
    assert.ok(!e.message.includes(TOKEN), "no token in messages");
    assert.equal(r.reconnects.length, 0);
    assert.deepEqual(r.states, ["closed"]);
    assert.equal((await server.streamRequests()).length, 1);
  });
}

test("real server errors: wrong token 401, unknown thread 404, foreign Last-Event-ID 400", async () => {
  const ids = await server.thread();
  const other = await server.thread();
  const foreign = await server.event(other.sessionId, other.threadId, msg("elsewhere"));
  const cases = [
    [{ ...ids, token: "wrong" }, "authentication", 401],
    [{ ...ids, threadId: "sthr_nope" }, "not_found", 404],
    [{ ...ids, lastEventId: foreign.id }, "invalid_request", 400],
  ];
  for (const [options, kind, status] of cases) {
    await server.clearRequests();
    const s = open(options, { token: options.token ?? TOKEN });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: kind });
    await sleep(50);
    assert.equal(r.errors[0].kind, kind);
    assert.equal(r.errors[0].status, status);
    assert.equal((await server.streamRequests()).length, 1, kind);
  }
});

test("a fatal error rejects the for-await loop with the ThreadtailError", async () => {
  const ids = await server.thread();
  const s = open({ ...ids, threadId: "sthr_missing" });
  await assert.rejects(
    async () => {
      for await (const e of s) void e;
    },
    (e) => e instanceof tt.ThreadtailError && e.kind === "not_found" && e.status === 404,
  );
});

test("401 with a token provider: refreshes once with { refresh: true }, then succeeds", async () => {
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, msg("a"));
  const calls = [];
  let cached = "stale-token"; // a provider that caches its token until asked to refresh
  const provider = async (ctx) => {
    calls.push({ ...ctx });
    await sleep(1);
    if (ctx.refresh) cached = TOKEN;
    return cached;
  };
  const s = open(ids, { token: provider });
  const r = record(s);
  await waitFor(() => r.events.length === 1, { what: "event after refresh" });
  assert.deepEqual(calls, [{ refresh: false }, { refresh: true }]);
  let reqs = await server.streamRequests();
  assert.deepEqual(reqs.map((q) => q.headers.authorization), ["Bearer stale-token", `Bearer ${TOKEN}`]);
  assert.equal(r.reconnects.length, 0, "the refresh is immediate, not a backoff");

  // a later 401 (token expired mid-session) refreshes again, keeping Last-Event-ID
  const last = s.lastEventId;
  await server.faults({ count: 1, status: 401 });
  await server.control("POST", "/disconnect");
  await server.event(ids.sessionId, ids.threadId, msg("b"));
  await waitFor(() => r.events.length === 2, { what: "event after the second refresh" });
  reqs = await server.streamRequests();
  assert.equal(reqs.length, 4);
  assert.deepEqual(reqs.slice(2).map((q) => q.headers["last-event-id"]), [last, last]);
  assert.deepEqual(calls.map((c) => c.refresh), [false, true, false, true]);
  assert.deepEqual(r.events.map((e) => e.content), ["a", "b"]);
});

test("401 with a provider whose fresh token is refused too: fatal after one refresh", async () => {
  const ids = await server.thread();
  const calls = [];
  const s = open(ids, { token: (ctx) => (calls.push(ctx.refresh), "always-wrong") });
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed" });
  await sleep(50);
  assert.deepEqual(calls, [false, true]);
  assert.equal((await server.streamRequests()).length, 2);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].kind, "authentication");
  assert.ok(!r.errors[0].message.includes("always-wrong"));
});

test("a token provider that throws: a retryable error, then it recovers", async () => {
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, msg("a"));
  let n = 0;
  const s = open(ids, {
    token: () => {
      if (n++ === 0) throw new Error("vault unavailable");
      return TOKEN;
    },
    retry: { ...FAST, minDelayMs: 1 },
  });
  const r = record(s);
  await waitFor(() => r.events.length === 1, { what: "event" });
  assert.equal(r.errors[0].kind, "network");
  assert.equal(r.reconnects.length, 1);
  assert.equal((await server.streamRequests()).length, 1, "no request without a token");
});

test("a wrong content type is fatal (kind content_type); a charset parameter is fine", async () => {
  const ids = await server.thread();
  await server.faults({ count: 1, content_type: "text/html" });
  const s = open(ids);
  const r = record(s);
  await waitFor(() => s.state === "closed");
  await sleep(50);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].kind, "content_type");
  assert.equal((await server.streamRequests()).length, 1);

  await server.event(ids.sessionId, ids.threadId, msg("ok"));
  await server.faults({ count: 1, content_type: "Text/Event-Stream; charset=utf-8" });
  const s2 = open(ids);
  const r2 = record(s2);
  await waitFor(() => r2.events.length === 1);
  assert.deepEqual(r2.errors, []);
});

test("idle timeout on a stalled stream: error kind timeout, then a reconnect that works", async () => {
  const ids = await quiet.thread();
  await quiet.event(ids.sessionId, ids.threadId, msg("a"));
  await quiet.faults({ count: 1, stall_ms: 3000 });
  const t0 = Date.now();
  const s = open(ids, { idleTimeoutMs: 300 }, quiet);
  const r = record(s);
  await waitFor(() => r.events.length === 1, { what: "event after the timeout" });
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 290 && elapsed < 1500, `${elapsed} ms`);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].kind, "timeout");
  assert.equal(r.errors[0].retryable, true);
  assert.equal(r.reconnects.length, 1);
  assert.equal((await quiet.streamRequests()).length, 2);
  // heartbeats (every 80 ms) keep a quiet stream alive: no timeout for 3 idle periods
  await sleep(900);
  assert.equal(r.errors.length, 1);
  assert.equal((await quiet.streamRequests()).length, 2);
  assert.equal(s.state, "open");
});

test("408, 500, 502 and 529 are retried; the stream then opens", async () => {
  const ids = await server.thread();
  await server.event(ids.sessionId, ids.threadId, msg("x"));
  const statuses = [408, 500, 502, 529];
  const s = open(ids, {
    retry: { initialDelayMs: 5, maxDelayMs: 10, minDelayMs: 1 },
    fetch: async (url, init) => {
      const next = statuses.shift();
      if (next) await server.faults({ count: 1, status: next });
      else await server.faults();
      return fetch(url, init);
    },
  });
  const r = record(s);
  await waitFor(() => r.events.length === 1, { what: "event after the retries" });
  assert.deepEqual(r.errors.map((e) => e.status), [408, 500, 502, 529]);
  assert.ok(r.errors.every((e) => e.retryable === true));
  assert.deepEqual(r.errors.map((e) => e.kind).slice(1), ["server", "server", "server"]);
  assert.equal(r.reconnects.length, 4);
  assert.equal((await server.streamRequests()).length, 5);
});
