// The lifecycle against servers that misbehave: absurd Retry-After, list pages that fail,
// cursors that repeat, slow listings, close() in the middle of a backfill, tokens no header can
// carry, and a closed stream that must leave nothing running.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as tt from "../../pkg/node.js";
import { useServers, TOKEN, record, waitFor, sleep, pkgUrl } from "./helpers/server.mjs";

let tail; // --history tail: live events only
const streams = useServers([["--keepalive-ms", "1000", "--history", "tail"]], (s) => ([tail] = s));

const FAST = { initialDelayMs: 20, maxDelayMs: 100, minDelayMs: 10, healthyAfterMs: 10000 };
const msg = (text) => ({ type: "agent.message", content: text });
const listFaults = (body) => tail.control("POST", "/list-faults", body);
const listRequests = async () => (await tail.requests()).filter((r) => !r.path.endsWith("/stream"));

function open(Class, opts) {
  const s = new Class({ baseUrl: tail.base, token: TOKEN, retry: FAST, ...opts });
  streams.push(s);
  return s;
}

async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}

test("Retry-After: 9999999999 on a 503: one request, then a wait capped at 10 minutes (no storm)", async () => {
  const ids = await tail.thread();
  await tail.faults({ count: 1000, status: 503, retry_after: 9999999999 });
  const s = open(tt.ThreadStream, ids);
  const r = record(s);
  await waitFor(() => r.reconnects.length === 1, { what: "the reconnect" });
  await sleep(1500);
  assert.equal((await tail.streamRequests()).length, 1);
  assert.equal(r.reconnects.length, 1);
  assert.equal(r.reconnects[0].delayMs, 600000);
  assert.equal(r.errors[0].kind, "server");
  s.close();
});

test("backfill: a list page that fails is listed again from the same cursor; history complete, then live", async () => {
  const ids = await tail.thread();
  const N = 2500;
  await tail.batch(ids.sessionId, ids.threadId, { count: N, template: msg("h{i}") });
  await tail.clearRequests();
  let lists = 0;
  const s = open(tt.ThreadStream, {
    ...ids,
    history: "backfill",
    fetch: async (url, init) => {
      // The second page fails twice (a 503, then a 500).
      if (url.includes("/events?") && ++lists === 2) await listFaults({ count: 2, status: 503 });
      return fetch(url, init);
    },
  });
  const r = record(s);
  await waitFor(() => r.events.length === N, { timeoutMs: 15000, what: "the history" });
  await tail.event(ids.sessionId, ids.threadId, msg("live"));
  await waitFor(() => r.events.length === N + 1, { what: "the live event" });
  assert.deepEqual(r.events.map((e) => e.content), [...Array.from({ length: N }, (_, i) => `h${i}`), "live"]);
  const pages = (await listRequests()).map((q) => new URLSearchParams(q.query).get("page"));
  assert.equal(pages.length, 5, pages.join());
  assert.equal(pages[0], null);
  assert.ok(pages[1] && pages[1] === pages[2] && pages[2] === pages[3], `page 2 asked three times: ${pages.join()}`);
  assert.deepEqual(r.errors.map((e) => e.kind), ["server", "server"]);
  assert.equal((await tail.streamRequests()).length, 1, "the live stream was kept");
});

test("backfill: when the first page fails, the history still arrives", async () => {
  const ids = await tail.thread();
  await tail.batch(ids.sessionId, ids.threadId, { count: 3, template: msg("h{i}") });
  await listFaults({ count: 1, status: 503 });
  const s = open(tt.ThreadStream, { ...ids, history: "backfill" });
  const r = record(s);
  await waitFor(() => r.events.length === 3, { what: "the history" });
  assert.deepEqual(r.events.map((e) => e.content), ["h0", "h1", "h2"]);
});

test("backfill: a repeating cursor ends the listing with a paging error; the live stream goes on", async () => {
  const ids = await tail.thread();
  await tail.batch(ids.sessionId, ids.threadId, { count: 3, template: msg("h{i}") });
  await listFaults({ count: 1000, repeat_cursor: true });
  await tail.clearRequests();
  const s = open(tt.ThreadStream, { ...ids, history: "backfill" });
  const r = record(s);
  await waitFor(() => r.errors.length === 1, { what: "the paging error" });
  assert.equal(r.errors[0].kind, "paging");
  await tail.event(ids.sessionId, ids.threadId, msg("live"));
  await waitFor(() => r.events.length === 4, { what: "the live event" });
  assert.deepEqual(r.events.map((e) => e.content), ["h0", "h1", "h2", "live"]);
  await sleep(300);
  assert.ok((await listRequests()).length <= 3, `${(await listRequests()).length} list requests`);
});

test("backfill: a live-only server drops the stream; the gap is listed before live delivery resumes", async () => {
  const ids = await tail.thread();
  await tail.batch(ids.sessionId, ids.threadId, { count: 3, template: msg("h{i}") });
  let streamsOpened = 0;
  const s = open(tt.ThreadStream, {
    ...ids,
    history: "backfill",
    fetch: async (url, init) => {
      if (url.includes("/stream")) {
        streamsOpened++;
        if (streamsOpened === 2) {
          // Events made while the stream was away.
          await tail.event(ids.sessionId, ids.threadId, msg("gap 1"));
          await tail.event(ids.sessionId, ids.threadId, msg("gap 2"));
        }
        // A live-only server: it ignores Last-Event-ID.
        const { "Last-Event-ID": _, ...headers } = init.headers;
        return fetch(url, { ...init, headers });
      }
      return fetch(url, init);
    },
  });
  const r = record(s);
  await waitFor(() => r.events.length === 3, { what: "the history" });
  await tail.event(ids.sessionId, ids.threadId, msg("live 1"));
  await waitFor(() => r.events.length === 4, { what: "live 1" });
  await tail.control("POST", "/disconnect");
  await waitFor(() => r.events.length === 6, { what: "the gap" });
  await tail.event(ids.sessionId, ids.threadId, msg("live 2"));
  await waitFor(() => r.events.length === 7, { what: "live 2" });
  await sleep(200);
  assert.deepEqual(r.events.map((e) => e.content), ["h0", "h1", "h2", "live 1", "gap 1", "gap 2", "live 2"]);
  assert.equal(streamsOpened, 2);
});

test("listThreadEvents and listThreads: a repeating cursor rejects with kind paging, after the items", async () => {
  const ids = await tail.thread();
  await tail.batch(ids.sessionId, ids.threadId, { count: 3, template: msg("h{i}") });
  await listFaults({ count: 1000, repeat_cursor: true });
  await tail.clearRequests();
  const seen = [];
  await assert.rejects(async () => {
    for await (const e of tt.listThreadEvents({ baseUrl: tail.base, token: TOKEN, ...ids })) seen.push(e.content);
  }, (e) => e instanceof tt.ThreadtailError && e.kind === "paging");
  assert.deepEqual(seen.slice(0, 3), ["h0", "h1", "h2"]);
  assert.ok((await listRequests()).length <= 3);
  await assert.rejects(collect(tt.listThreads({ baseUrl: tail.base, token: TOKEN, sessionId: ids.sessionId })), (e) => e.kind === "paging");
});

test("close() during a session backfill: the listing stops, no list request after it", async () => {
  const ids = await tail.thread();
  for (let i = 0; i < 5; i++) await tail.childThread(ids.sessionId, ids.threadId, `Agent ${i}`);
  await listFaults({ count: 1000, delay_ms: 300 });
  await tail.clearRequests();
  const s = open(tt.SessionStream, { sessionId: ids.sessionId, history: "backfill" });
  await waitFor(async () => (await listRequests()).length >= 2, { what: "two list requests" });
  s.close();
  const atClose = (await listRequests()).length;
  await sleep(1200);
  assert.equal((await listRequests()).length, atClose, "no list request after close()");
  assert.equal(s.state, "closed");
});

test("a backfill slower than idleTimeoutMs keeps the live stream (and its buffered events)", async () => {
  const ids = await tail.thread();
  await tail.batch(ids.sessionId, ids.threadId, { count: 2, template: msg("h{i}") });
  await listFaults({ count: 2, delay_ms: 700 });
  const s = open(tt.ThreadStream, { ...ids, history: "backfill", idleTimeoutMs: 200 });
  const r = record(s);
  await waitFor(async () => (await tail.streamRequests()).length === 1, { what: "the live stream" });
  await tail.event(ids.sessionId, ids.threadId, msg("live during the backfill"));
  await waitFor(() => r.events.length === 3, { timeoutMs: 5000, what: "history and live" });
  assert.deepEqual(r.events.map((e) => e.content), ["h0", "h1", "live during the backfill"]);
  assert.deepEqual(r.errors, []);
  assert.equal((await tail.streamRequests()).length, 1);
});

test("a token no header can carry: a fatal invalid_argument that does not quote it, and no request", async () => {
  const ids = await tail.thread();
  assert.throws(
    () => new tt.ThreadStream({ baseUrl: tail.base, ...ids, token: "sec\nret-static" }),
    (e) => e.kind === "invalid_argument" && !e.message.includes("ret-static"),
  );
  await tail.clearRequests();
  const s = open(tt.ThreadStream, { ...ids, token: async () => "sec\nret-provider" });
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed" });
  await sleep(200);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].kind, "invalid_argument");
  assert.ok(!r.errors[0].message.includes("ret-provider"), r.errors[0].message);
  assert.equal((await tail.streamRequests()).length, 0);
  for (const bad of ["http://h:99999/v1", "http://[::1/v1"]) {
    assert.throws(() => new tt.ThreadStream({ baseUrl: bad, ...ids }), (e) => e.kind === "invalid_argument", bad);
  }
});

test("close() during a backoff delay leaves nothing running: the Node process exits at once", async () => {
  // A child process: its stream fails, schedules a 20 s reconnect, and is closed. A timer left
  // behind would keep the process alive for those 20 s.
  const script = `
    import * as tt from ${JSON.stringify(pkgUrl)};
    const s = new tt.ThreadStream({
      baseUrl: "http://threadtail.invalid/v1", sessionId: "sess_x", threadId: "sthr_x",
      retry: { initialDelayMs: 20000, minDelayMs: 20000, maxDelayMs: 20000 },
      fetch: async () => new Response("{}", { status: 503 }),
    });
    // Closed while the delay runs (a close() from the reconnect listener itself would come
    // before the timer starts).
    s.onReconnect(() => setTimeout(() => { s.close(); console.log("closed"); }, 100));
  `;
  const t0 = Date.now();
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  assert.equal(out.trim(), "closed");
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 5000, `the process lived ${Date.now() - t0} ms`);
});

test("a listener that throws in Node: the process keeps running, later events arrive, a warning says why", async () => {
  const script = `
    import * as tt from ${JSON.stringify(pkgUrl)};
    const frames = 'id: a\\ndata: {"n":1}\\n\\nid: b\\ndata: {"n":2}\\n\\nevent: session.thread_status_terminated\\ndata: {}\\n\\n';
    const s = new tt.ThreadStream({
      baseUrl: "http://threadtail.invalid/v1", sessionId: "sess_x", threadId: "sthr_x",
      fetch: async () => new Response(frames, { headers: { "content-type": "text/event-stream" } }),
    });
    s.onEvent((e) => { if (e.n === 1) throw new Error("listener boom"); });
    s.onEvent((e) => console.log("event", e.n ?? e.type));
    s.onStateChange((st) => { if (st === "closed") console.log("closed"); });
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  assert.equal(code, 0, err);
  assert.deepEqual(out.trim().split("\n"), ["event 1", "event 2", "event session.thread_status_terminated", "closed"]);
  assert.match(err, /listener boom/);
});

test("two next() calls in flight on the async iterator: each gets its own event, in order", async () => {
  const frames = 'id: a\ndata: {"n":1}\n\nid: b\ndata: {"n":2}\n\nevent: session.thread_status_terminated\ndata: {}\n\n';
  let release;
  const gate = new Promise((r) => (release = r));
  const s = new tt.ThreadStream({
    baseUrl: "http://threadtail.invalid/v1", sessionId: "sess_x", threadId: "sthr_x",
    fetch: async () => {
      await gate; // both next() calls are made before any event exists
      return new Response(frames, { headers: { "content-type": "text/event-stream" } });
    },
  });
  const it = s[Symbol.asyncIterator]();
  const first = it.next();
  const second = it.next();
  release();
  const settled = await Promise.race([Promise.all([first, second]), sleep(3000).then(() => "unsettled")]);
  assert.notEqual(settled, "unsettled", "a next() call was left unsettled");
  assert.deepEqual(settled.map((r) => r.value.n), [1, 2]);
  const rest = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.type);
  assert.deepEqual(rest, ["session.thread_status_terminated"]);
});

test("two next() calls in flight on a list: two items in order, each page fetched once", async () => {
  const ids = await tail.thread();
  await tail.batch(ids.sessionId, ids.threadId, { count: 3, template: msg("h{i}") });
  await tail.clearRequests();
  const it = tt.listThreadEvents({ baseUrl: tail.base, token: TOKEN, ...ids, limit: 2 })[Symbol.asyncIterator]();
  const got = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
  assert.deepEqual(got.map((r) => r.done ? "done" : r.value.content), ["h0", "h1", "h2", "done"]);
  assert.equal((await listRequests()).length, 2);
});
