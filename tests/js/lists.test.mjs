// listThreads / listThreadEvents (paging, errors, retries) and history: "backfill" against a
// server that streams live events only (--history tail).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tt from "../../pkg/node.js";
import { useServers, TOKEN, record, waitFor, sleep } from "./helpers/server.mjs";

let server; // --history replay
let tail; // --history tail: live events only, unless Last-Event-ID
const streams = useServers([["--keepalive-ms", "1000"], ["--keepalive-ms", "1000", "--history", "tail"]], (s) => ([server, tail] = s));

const msg = (text) => ({ type: "agent.message", content: text });
async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}
const listRequests = async (srv) => (await srv.requests()).filter((r) => !r.path.endsWith("/stream"));

test("listThreads: every thread, in order, over pages of 2", async () => {
  const ids = await server.thread();
  const children = [];
  for (let i = 0; i < 4; i++) children.push(await server.childThread(ids.sessionId, ids.threadId, `Agent ${i}`));
  await server.clearRequests();
  const threads = await collect(tt.listThreads({ baseUrl: server.base, token: TOKEN, sessionId: ids.sessionId, limit: 2, headers: { "x-extra": "1" } }));
  assert.deepEqual(threads.map((t) => t.id), [ids.threadId, ...children]);
  assert.equal(threads[0].parent_thread_id, null);
  assert.equal(threads[0].type, "session_thread");
  assert.ok(threads.slice(1).every((t) => t.parent_thread_id === ids.threadId));
  const reqs = await listRequests(server);
  assert.equal(reqs.length, 3);
  for (const r of reqs) {
    assert.equal(r.path, `/v1/sessions/${ids.sessionId}/threads`);
    assert.equal(r.headers.accept, "application/json");
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(r.headers["x-extra"], "1");
    assert.equal(new URLSearchParams(r.query).get("limit"), "2");
  }
  assert.equal(new URLSearchParams(reqs[0].query).get("page"), null);
  assert.ok(new URLSearchParams(reqs[1].query).get("page"));
});

test("listThreadEvents: every event, in order, over pages of 2; type filter", async () => {
  const ids = await server.thread();
  const b = await server.batch(ids.sessionId, ids.threadId, { count: 7, template: msg("e{i}") });
  await server.event(ids.sessionId, ids.threadId, { type: "agent.thinking" });
  await server.clearRequests();
  const events = await collect(tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids, limit: 2 }));
  assert.deepEqual(events.map((e) => e.content ?? e.type), ["e0", "e1", "e2", "e3", "e4", "e5", "e6", "agent.thinking"]);
  assert.equal(events[0].id, b.first_id);
  assert.equal((await listRequests(server)).length, 4);
  const thinking = await collect(tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids, limit: 2, types: ["agent.thinking"] }));
  assert.deepEqual(thinking.map((e) => e.type), ["agent.thinking"]);
  // return() stops early: no further page is fetched
  await server.clearRequests();
  const it = tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids, limit: 2 });
  for await (const e of it) {
    assert.equal(e.content, "e0");
    break;
  }
  assert.equal((await listRequests(server)).length, 1);
});

test("return() while a next() waits for its page: that next() ends the iteration (done), it does not fail", async () => {
  let calls = 0;
  // A page that never comes, until the request is aborted.
  const fetch = (url, init) => {
    calls++;
    return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  };
  const it = tt.listThreads({ baseUrl: "http://127.0.0.1:9/v1", token: TOKEN, sessionId: "sess_1", fetch });
  const pending = it.next();
  await sleep(20);
  await it.return();
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  assert.equal(calls, 1, "no request after return()");
});

test("list errors have the stream's kinds: 401, 404, 400", async () => {
  const ids = await server.thread();
  const cases = [
    [() => tt.listThreads({ baseUrl: server.base, token: "wrong", sessionId: ids.sessionId }), "authentication", 401],
    [() => tt.listThreadEvents({ baseUrl: server.base, token: "wrong", ...ids }), "authentication", 401],
    [() => tt.listThreads({ baseUrl: server.base, token: TOKEN, sessionId: "sess_nope" }), "not_found", 404],
    [() => tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids, threadId: "sthr_nope" }), "not_found", 404],
    [() => tt.listThreadEvents({ baseUrl: `${server.url}/nope`, token: TOKEN, ...ids }), "not_found", 404],
  ];
  for (const [make, kind, status] of cases) {
    await server.clearRequests();
    await assert.rejects(collect(make()), (e) => {
      assert.ok(e instanceof tt.ThreadtailError, String(e));
      assert.equal(e.kind, kind);
      assert.equal(e.status, status);
      assert.equal(e.retryable, false);
      assert.ok(!e.message.includes(TOKEN));
      return true;
    });
    // (a route outside the API mount is not in the request log)
    if (!make.toString().includes("/nope`")) assert.equal((await listRequests(server)).length, 1, `${kind}: not retried`);
  }
});

test("lists retry 503 and 429 (Retry-After) and refresh a token once on 401", async () => {
  const ids = await server.thread();
  await server.batch(ids.sessionId, ids.threadId, { count: 3, template: msg("{i}") });
  const answers = [
    new Response(JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "busy" } }), { status: 503, headers: { "content-type": "application/json" } }),
    new Response("{}", { status: 429, headers: { "content-type": "application/json", "retry-after": "1" } }),
  ];
  const times = [];
  const wrapped = (url, init) => {
    times.push(Date.now());
    return answers.length ? answers.shift() : fetch(url, init);
  };
  const events = await collect(tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids, fetch: wrapped }));
  assert.equal(events.length, 3);
  assert.equal(times.length, 3);
  assert.ok(times[2] - times[1] >= 990, `Retry-After honoured: ${times[2] - times[1]} ms`);

  const calls = [];
  let cached = "stale";
  const provider = (ctx) => {
    calls.push(ctx.refresh);
    if (ctx.refresh) cached = TOKEN;
    return cached;
  };
  const again = await collect(tt.listThreadEvents({ baseUrl: server.base, token: provider, ...ids }));
  assert.equal(again.length, 3);
  assert.deepEqual(calls, [false, true]);
});

test("a list answer that is not a page: a typed error, no crash", async () => {
  const ids = { sessionId: "sess_x", threadId: "sthr_y" };
  for (const body of ["not json", "[]", "{\"data\": 5}", "null"]) {
    const f = async () => new Response(body, { headers: { "content-type": "application/json" } });
    await assert.rejects(collect(tt.listThreadEvents({ baseUrl: "http://127.0.0.1:9/v1", ...ids, fetch: f })), (e) => e instanceof tt.ThreadtailError, body);
  }
  const html = async () => new Response("<html>", { headers: { "content-type": "text/html" } });
  await assert.rejects(collect(tt.listThreads({ baseUrl: "http://127.0.0.1:9/v1", sessionId: "s", fetch: html })), (e) => e.kind === "content_type");
});

test("history: backfill on a live-only server: complete history, then live, with events injected during the backfill", async () => {
  const ids = await tail.thread();
  const H = 2500; // three pages of 1,000
  await tail.batch(ids.sessionId, ids.threadId, { count: H, template: msg("h{i}") });
  let injected = 0;
  let listCalls = 0;
  const wrapped = async (url, init) => {
    if ((String(url).includes("/events?") || String(url).endsWith("/events")) && listCalls < 3) {
      listCalls++;
      // new events while the history is being listed: they reach the open stream AND
      // (for the later pages) the list
      for (let i = 0; i < 2; i++) await tail.event(ids.sessionId, ids.threadId, msg(`during${injected++}`));
    }
    return fetch(url, init);
  };
  const s = new tt.ThreadStream({ baseUrl: tail.base, token: TOKEN, ...ids, history: "backfill", fetch: wrapped, retry: { initialDelayMs: 10, maxDelayMs: 50 } });
  streams.push(s);
  const r = record(s);
  const expectedDuring = () => Array.from({ length: injected }, (_, i) => `during${i}`);
  await waitFor(() => listCalls >= 3 && r.events.length === H + injected, { timeoutMs: 10000, what: "history and injected events" });
  for (let i = 0; i < 3; i++) await tail.event(ids.sessionId, ids.threadId, msg(`live${i}`));
  await waitFor(() => r.events.length === H + injected + 3, { what: "live events" });
  await sleep(50);
  const texts = r.events.map((e) => e.content);
  assert.deepEqual(texts, [
    ...Array.from({ length: H }, (_, i) => `h${i}`),
    ...expectedDuring(),
    "live0",
    "live1",
    "live2",
  ]);
  const idList = r.events.map((e) => e.id);
  assert.equal(new Set(idList).size, idList.length, "no duplicate");
  assert.deepEqual([...idList].sort(), idList, "in order");
  assert.deepEqual(r.errors, []);
  const reqs = await tail.requests();
  const streamReqs = reqs.filter((q) => q.path.endsWith("/stream"));
  const lists = reqs.filter((q) => q.path.endsWith("/events"));
  assert.equal(streamReqs.length, 1);
  assert.equal(streamReqs[0].headers["last-event-id"], undefined);
  assert.ok(lists.length >= 3);
  assert.ok(lists.every((q) => q.headers.accept === "application/json" && q.headers.authorization === `Bearer ${TOKEN}`));
  // the stream request came first: nothing can fall between the list and the stream
  assert.ok(reqs.indexOf(streamReqs[0]) < reqs.indexOf(lists[0]));

  // a drop after the backfill: the reconnect resumes by id, and lists the history again (a
  // live-only server may not honour the id): what was delivered is skipped, the rest arrives
  const last = s.lastEventId;
  const before = r.events.length;
  await tail.control("POST", "/disconnect");
  await tail.event(ids.sessionId, ids.threadId, msg("after drop"));
  await waitFor(() => r.events.length === before + 1, { what: "event after the drop" });
  await sleep(300);
  assert.equal(r.events.length, before + 1);
  assert.equal(r.events.at(-1).content, "after drop");
  const again = await tail.requests();
  assert.equal(again.filter((q) => q.path.endsWith("/stream")).at(-1).headers["last-event-id"], last);
  assert.equal(again.filter((q) => q.path.endsWith("/events")).length, lists.length + 3, "the history listed again");
  assert.equal(new Set(r.events.map((e) => e.id)).size, r.events.length);
});

test("history: backfill on a replaying server still delivers each event once (beyond the window of recent ids)", async () => {
  const ids = await server.thread();
  // More events than the dedupe window (4,096): the stream's replay of what the listing
  // delivered is recognised as a replay, not judged id by id.
  const H = 5000;
  await server.batch(ids.sessionId, ids.threadId, { count: H, template: msg("h{i}") });
  const s = new tt.ThreadStream({ baseUrl: server.base, token: TOKEN, ...ids, history: "backfill" });
  streams.push(s);
  const r = record(s);
  await waitFor(() => r.events.length >= H, { timeoutMs: 15000 });
  await server.event(ids.sessionId, ids.threadId, msg("live"));
  await waitFor(() => r.events.at(-1).content === "live", { timeoutMs: 15000 });
  await sleep(50);
  assert.equal(r.events.length, H + 1);
  assert.deepEqual(r.events.map((e) => e.content), [...Array.from({ length: H }, (_, i) => `h${i}`), "live"]);
  assert.ok(r.metas.every((m) => m.update === false));
});

test("history: none / server on a live-only server: live events only", async () => {
  const ids = await tail.thread();
  await tail.batch(ids.sessionId, ids.threadId, { count: 5, template: msg("h{i}") });
  const s = new tt.ThreadStream({ baseUrl: tail.base, token: TOKEN, ...ids, history: "none" });
  streams.push(s);
  const r = record(s);
  await waitFor(() => s.state === "open");
  await sleep(30);
  await tail.event(ids.sessionId, ids.threadId, msg("live"));
  await waitFor(() => r.events.length === 1);
  assert.equal(r.events[0].content, "live");
  assert.equal((await tail.requests()).filter((q) => q.path.endsWith("/events")).length, 0);
});

test("SessionStream with history: backfill on a live-only server: every thread's history, merged in order, then live", async () => {
  const ids = await tail.thread();
  const child = await tail.childThread(ids.sessionId, ids.threadId);
  await tail.event(ids.sessionId, ids.threadId, msg("c0"));
  await tail.event(ids.sessionId, child, msg("k0"));
  await tail.event(ids.sessionId, ids.threadId, msg("c1"));
  const s = new tt.SessionStream({ baseUrl: tail.base, token: TOKEN, sessionId: ids.sessionId, history: "backfill" });
  streams.push(s);
  const r = record(s);
  await waitFor(() => r.events.length >= 4, { what: "history" });
  assert.deepEqual(r.errors, []);
  await tail.event(ids.sessionId, child, msg("k1"));
  await waitFor(() => r.events.some((e) => e.content === "k1"), { what: "live" });
  const texts = r.events.map((e) => e.content ?? e.type);
  assert.deepEqual(texts, ["session.thread_created", "c0", "k0", "c1", "k1"], "the session's history in creation order, then live");
  const paths = (await tail.requests()).map((q) => q.path);
  assert.ok(paths.some((p) => p.endsWith(`/sessions/${ids.sessionId}/threads`)), "threads listed");
  assert.ok(paths.some((p) => p.endsWith(`/threads/${child}/events`)), "each thread's events listed");
});
