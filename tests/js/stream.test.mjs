// ThreadStream and SessionStream against the reference server: what is sent, what is
// delivered, history then live, resume, decode errors, updates, the terminal event.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tt from "../../pkg/node.js";
import { useServers, TOKEN, record, waitFor, sleep, FAST } from "./helpers/server.mjs";

let server;
const streams = useServers([["--keepalive-ms", "1000"]], ([s]) => (server = s));

function open(ids, options = {}, Class = tt.ThreadStream) {
  const s = new Class({ baseUrl: server.base, token: TOKEN, retry: FAST, ...ids, ...options });
  streams.push(s);
  return s;
}

const msg = (text) => ({ type: "agent.message", content: [{ type: "text", text }] });

/** A ThreadStream whose one response's body is `parts` (Uint8Arrays) one after another. */
function streamOfBody(parts) {
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (body.set(p, at), at + p.length), 0);
  const s = new tt.ThreadStream({
    baseUrl: "http://threadtail.invalid", sessionId: "sess_b", threadId: "sthr_b", token: TOKEN,
    fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
  });
  streams.push(s);
  return s;
}

test("request: Authorization, Accept, custom headers, type filter, percent-encoded path", async () => {
  const ids = await server.thread();
  const h = new Headers({ "x-extra": "one", "anthropic-beta": "b1" });
  const s = open(ids, {
    headers: h,
    types: ["agent.message", "session.thread_created"],
  });
  const r = record(s);
  await waitFor(async () => (await server.streamRequests()).length === 1, { what: "request" });
  await waitFor(() => s.state === "open", { what: "open" });
  const [req] = await server.streamRequests();
  assert.equal(req.method, "GET");
  assert.equal(req.path, `/v1/sessions/${ids.sessionId}/threads/${ids.threadId}/stream`);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(req.headers.accept, "text/event-stream");
  assert.equal(req.headers["x-extra"], "one");
  assert.equal(req.headers["anthropic-beta"], "b1");
  assert.equal(req.headers["last-event-id"], undefined);
  const q = new URLSearchParams(req.query);
  const types = [...q.getAll("type"), ...q.getAll("types[]")].flatMap((t) => t.split(","));
  assert.deepEqual(types.sort(), ["agent.message", "session.thread_created"]);
  // the filter is applied: a non-matching event is not delivered, a matching one is
  await server.event(ids.sessionId, ids.threadId, { type: "agent.thinking" });
  await server.event(ids.sessionId, ids.threadId, msg("kept"));
  await waitFor(() => r.events.length === 1, { what: "filtered event" });
  assert.equal(r.events[0].type, "agent.message");
  await sleep(30);
  assert.equal(r.events.length, 1);
  assert.deepEqual(r.errors, []);
});

test("headers as a record, and a base URL with a trailing slash", async () => {
  const ids = await server.thread();
  open(ids, { baseUrl: `${server.base}/`, headers: { "x-api-key": "k", "x-n": "2" } });
  await waitFor(async () => (await server.streamRequests()).length === 1);
  const [req] = await server.streamRequests();
  assert.equal(req.path, `/v1/sessions/${ids.sessionId}/threads/${ids.threadId}/stream`);
  assert.equal(req.headers["x-api-key"], "k");
  assert.equal(req.headers["x-n"], "2");
});

test("an id cannot change the path: it is percent-encoded or refused", async () => {
  // a slash or "?" in an id must not reach the server as a path separator or query
  let s;
  try {
    s = open({ sessionId: "sess_a/../x", threadId: "sthr_b?c=1" });
  } catch (e) {
    assert.ok(e instanceof tt.ThreadtailError);
    assert.equal(e.kind, "invalid_argument");
    return;
  }
  const r = record(s);
  await waitFor(() => r.errors.length > 0 || s.state === "closed", { what: "an answer" });
  const reqs = await server.requests();
  assert.equal(reqs.length, 1);
  assert.ok(reqs[0].path.includes("%2F") && reqs[0].path.includes("%3F"), reqs[0].path);
  assert.equal(reqs[0].query, "");
});

test("dot-segment ids (\".\", \"..\") are refused: they would change the path", () => {
  const bad = [
    { sessionId: "..", threadId: "sthr_x" },
    { sessionId: "sess_x", threadId: "." },
    { sessionId: ".", threadId: "sthr_x" },
    { sessionId: "sess_x", threadId: ".." },
  ];
  for (const ids of bad) {
    for (const make of [
      () => new tt.ThreadStream({ baseUrl: server.base, token: TOKEN, ...ids }),
      () => tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids }),
    ]) {
      let s;
      assert.throws(
        () => (s = make()),
        (e) => e instanceof tt.ThreadtailError && e.kind === "invalid_argument",
        JSON.stringify(ids),
      );
      s?.close?.();
    }
  }
  for (const sessionId of [".", ".."]) {
    assert.throws(() => new tt.SessionStream({ baseUrl: server.base, token: TOKEN, sessionId }), (e) => e.kind === "invalid_argument");
    assert.throws(() => tt.listThreads({ baseUrl: server.base, token: TOKEN, sessionId }), (e) => e.kind === "invalid_argument");
  }
});

test("history then live, in order, with typed JSON and meta.update false", async () => {
  const ids = await server.thread();
  const child = await server.childThread(ids.sessionId, ids.threadId);
  await server.batch(ids.sessionId, child, { count: 20, template: msg("history {i}") });
  const s = open({ sessionId: ids.sessionId, threadId: child });
  const r = record(s);
  const created = [];
  s.on("session.thread_created", (e) => created.push(e));
  await waitFor(() => r.events.length === 21, { what: "history" });
  assert.equal(s.state, "open");
  for (let i = 0; i < 5; i++) await server.event(ids.sessionId, child, msg(`live ${i}`));
  await waitFor(() => r.events.length === 26, { what: "live events" });
  assert.equal(r.events[0].type, "session.thread_created");
  assert.equal(created.length, 1);
  assert.equal(created[0].parent_thread_id, ids.threadId);
  const texts = r.events.slice(1).map((e) => e.content[0].text);
  assert.deepEqual(texts, [
    ...Array.from({ length: 20 }, (_, i) => `history ${i}`),
    ...Array.from({ length: 5 }, (_, i) => `live ${i}`),
  ]);
  const idsSeen = r.events.map((e) => e.id);
  assert.deepEqual([...idsSeen].sort(), idsSeen, "ids in creation order");
  assert.ok(r.events.every((e) => e.session_thread_id === child));
  assert.ok(r.metas.every((m) => m.update === false));
  assert.equal(s.lastEventId, idsSeen.at(-1));
  assert.deepEqual(r.errors, []);
  // one connection only
  assert.equal((await server.streamRequests()).length, 1);
});

test("Last-Event-ID is sent on every reconnect; nothing lost or repeated", async () => {
  const ids = await server.thread();
  const s = open(ids, { retry: { initialDelayMs: 10, maxDelayMs: 50, minDelayMs: 5 } });
  const r = record(s);
  await waitFor(() => s.state === "open");
  const expectedResume = [undefined];
  for (let round = 0; round < 4; round++) {
    await server.batch(ids.sessionId, ids.threadId, { count: 3, template: msg(`r${round} {i}`) });
    await waitFor(() => r.events.length === 3 * (round + 1), { what: `round ${round}` });
    expectedResume.push(s.lastEventId);
    const opened = r.states.filter((x) => x === "open").length;
    await server.control("POST", "/disconnect");
    await waitFor(() => r.states.filter((x) => x === "open").length > opened, { what: "reopen" });
  }
  const reqs = await server.streamRequests();
  assert.deepEqual(
    reqs.map((q) => q.headers["last-event-id"]),
    expectedResume,
  );
  assert.ok(reqs.every((q) => q.headers.authorization === `Bearer ${TOKEN}`));
  assert.equal(r.events.length, 12);
  assert.equal(new Set(r.events.map((e) => e.id)).size, 12);
  assert.equal(r.reconnects.length, 4);
  assert.ok(r.reconnects.every((x) => x.reason && x.attempt >= 1));
  assert.deepEqual(r.errors, [], "a clean end of the body is not an error");
});

test("a server that ignores Last-Event-ID and replays everything: each event still once", async () => {
  const ids = await server.thread();
  await server.batch(ids.sessionId, ids.threadId, { count: 5, template: msg("h{i}") });
  const sentIds = [];
  const s = open(ids, {
    retry: { initialDelayMs: 5, maxDelayMs: 10, minDelayMs: 1 },
    // drop the header on its way, as a server that does not honour it would
    fetch: (url, init) => {
      sentIds.push(init.headers["Last-Event-ID"]);
      const headers = { ...init.headers };
      delete headers["Last-Event-ID"];
      return fetch(url, { ...init, headers });
    },
  });
  const r = record(s);
  await waitFor(() => r.events.length === 5);
  for (let round = 0; round < 3; round++) {
    const opened = r.states.filter((x) => x === "open").length;
    await server.control("POST", "/disconnect");
    await server.event(ids.sessionId, ids.threadId, msg(`new${round}`));
    await waitFor(() => r.states.filter((x) => x === "open").length > opened && r.events.length === 6 + round);
  }
  await sleep(30);
  assert.deepEqual(r.events.map((e) => e.content[0].text), ["h0", "h1", "h2", "h3", "h4", "new0", "new1", "new2"]);
  assert.ok(r.metas.every((m) => m.update === false));
  assert.equal(sentIds.length, 4);
  assert.equal(sentIds[0], undefined);
  assert.ok(sentIds.slice(1).every((x) => typeof x === "string" && x.startsWith("evt_")));
});

test("lastEventId option: resumes after it", async () => {
  const ids = await server.thread();
  const b = await server.batch(ids.sessionId, ids.threadId, { count: 6, template: msg("{i}") });
  const first = await (async () => {
    const all = [];
    for await (const e of tt.listThreadEvents({ baseUrl: server.base, token: TOKEN, ...ids })) all.push(e);
    return all;
  })();
  assert.equal(first.at(-1).id, b.last_id);
  const s = open(ids, { lastEventId: first[2].id });
  const r = record(s);
  await waitFor(() => r.events.length === 3);
  assert.deepEqual(r.events.map((e) => e.id), first.slice(3).map((e) => e.id));
  const [req] = await server.streamRequests();
  assert.equal(req.headers["last-event-id"], first[2].id);
});

test("a custom fetch option is used for every request", async () => {
  const ids = await server.thread();
  const calls = [];
  const s = open(ids, {
    fetch: (url, init) => {
      calls.push({ url: String(url), init });
      return fetch(url, init);
    },
  });
  const r = record(s);
  await server.event(ids.sessionId, ids.threadId, msg("x"));
  await waitFor(() => r.events.length === 1);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, `${server.base}/sessions/${ids.sessionId}/threads/${ids.threadId}/stream`);
  assert.equal(calls[0].init.method, "GET");
  assert.equal(calls[0].init.cache, "no-store");
  assert.ok(calls[0].init.signal instanceof AbortSignal);
  const hdrs = new Headers(calls[0].init.headers);
  assert.equal(hdrs.get("authorization"), `Bearer ${TOKEN}`);
  assert.ok(!calls[0].url.includes(TOKEN), "the token is never in the URL");
});

test("an unknown event type and unknown fields are delivered", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  const typed = [];
  s.on("vendor.new_thing", (e) => typed.push(e));
  await server.event(ids.sessionId, ids.threadId, { type: "vendor.new_thing", extra: { deep: [1, 2] } });
  await server.event(ids.sessionId, ids.threadId, { ...msg("y"), brand_new_field: true });
  await waitFor(() => r.events.length === 2);
  assert.equal(r.events[0].type, "vendor.new_thing");
  assert.deepEqual(r.events[0].extra, { deep: [1, 2] });
  assert.equal(typed.length, 1);
  assert.equal(r.events[1].brand_new_field, true);
  assert.deepEqual(r.errors, []);
});

test("an event that is not JSON: onError kind decode with eventId and raw, the stream goes on", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  await server.event(ids.sessionId, ids.threadId, msg("before"));
  const bad = await server.event(ids.sessionId, ids.threadId, { type: "agent.message", _raw_data: "{not json" });
  await server.event(ids.sessionId, ids.threadId, { type: "agent.message", _raw_data: "[1,2]" });
  await server.event(ids.sessionId, ids.threadId, msg("after"));
  await waitFor(() => r.events.length === 2 && r.errors.length === 2, { what: "events and errors" });
  assert.deepEqual(r.events.map((e) => e.content[0].text), ["before", "after"]);
  const e = r.errors[0];
  assert.ok(e instanceof tt.ThreadtailError);
  assert.ok(e instanceof Error);
  assert.equal(e.kind, "decode");
  assert.equal(e.retryable, false);
  assert.equal(e.eventId, bad.id);
  assert.equal(e.raw, "{not json");
  assert.equal(e.eventType, "agent.message");
  assert.equal(r.errors[1].kind, "decode");
  assert.equal(s.state, "open");
  assert.equal((await server.streamRequests()).length, 1, "no reconnect for a decode error");
});

test("a repeated id: identical content is skipped, different content is an update", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  const first = await server.event(ids.sessionId, ids.threadId, {
    type: "user.message",
    content: "queued",
    processed_at: null,
  });
  await waitFor(() => r.events.length === 1);
  const same = `id: ${first.id}\nevent: user.message\ndata: ${JSON.stringify(first)}\n\n`;
  const processed = { ...first, processed_at: "2026-06-15T08:01:00.000Z" };
  const changed = `id: ${first.id}\nevent: user.message\ndata: ${JSON.stringify(processed)}\n\n`;
  await server.event(ids.sessionId, ids.threadId, { type: "user.message", _raw_frame: same });
  await server.event(ids.sessionId, ids.threadId, { type: "user.message", _raw_frame: changed });
  await server.event(ids.sessionId, ids.threadId, msg("next"));
  await waitFor(() => r.events.length === 3, { what: "update and next" });
  assert.deepEqual(r.metas.map((m) => m.update), [false, true, false]);
  assert.equal(r.events[1].id, first.id);
  assert.equal(r.events[1].processed_at, "2026-06-15T08:01:00.000Z");
  assert.equal(r.events[0].processed_at, null);
  assert.equal(r.events[2].content[0].text, "next");
});

test("an event larger than maxEventBytes: onError kind too_large, the stream goes on", async () => {
  const ids = await server.thread();
  const s = open(ids, { maxEventBytes: 1024 });
  const r = record(s);
  await server.event(ids.sessionId, ids.threadId, msg("small"));
  await server.event(ids.sessionId, ids.threadId, msg("x".repeat(5000)));
  await server.event(ids.sessionId, ids.threadId, msg("after"));
  await waitFor(() => r.events.length === 2 && r.errors.length === 1, { what: "events and the error" });
  assert.deepEqual(r.events.map((e) => e.content[0].text), ["small", "after"]);
  assert.equal(r.errors[0].kind, "too_large");
  assert.ok(r.errors[0] instanceof tt.ThreadtailError);
  assert.equal(s.state, "open");
  assert.equal((await server.streamRequests()).length, 1);
});

test("ping frames and heartbeats are not events", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  await server.event(ids.sessionId, ids.threadId, { type: "agent.message", _raw_frame: "event: ping\ndata: {}\n\n: heartbeat\n\n" });
  await server.event(ids.sessionId, ids.threadId, msg("real"));
  await waitFor(() => r.events.length >= 1);
  await sleep(30);
  assert.deepEqual(r.events.map((e) => e.type), ["agent.message"]);
});

test("an in-stream error frame goes to onError; the stream stays open", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  const body = { type: "error", error: { type: "overloaded_error", message: "busy" } };
  await server.event(ids.sessionId, ids.threadId, { type: "agent.message", _raw_frame: `event: error\ndata: ${JSON.stringify(body)}\n\n` });
  await server.event(ids.sessionId, ids.threadId, msg("after"));
  await waitFor(() => r.events.length === 1 && r.errors.length === 1);
  assert.ok(r.errors[0] instanceof tt.ThreadtailError);
  assert.equal(r.errors[0].type, "overloaded_error");
  assert.equal(s.state, "open");
});

test("session.thread_status_terminated closes the stream: no reconnect, nothing after", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  await server.event(ids.sessionId, ids.threadId, msg("a"));
  await server.event(ids.sessionId, ids.threadId, {
    type: "session.thread_status_terminated",
    status: "terminated",
    stop_reason: { type: "archive" },
  });
  await server.event(ids.sessionId, ids.threadId, msg("after the end"));
  await waitFor(() => s.state === "closed", { what: "closed" });
  await sleep(100);
  assert.deepEqual(r.events.map((e) => e.type), ["agent.message", "session.thread_status_terminated"]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.reconnects.length, 0);
  assert.equal(r.states.at(-1), "closed");
  assert.equal((await server.streamRequests()).length, 1);
  await waitFor(async () => (await server.status()).open_streams === 0, { what: "connection closed" });
});

test("a terminal event without an event: line (type only in JSON) also ends the stream", async () => {
  const ids = await server.thread();
  const s = open(ids);
  const r = record(s);
  const data = JSON.stringify({ type: "session.thread_status_terminated", status: "terminated" });
  await server.event(ids.sessionId, ids.threadId, { type: "agent.message", _raw_frame: `id: evt_zz\ndata: ${data}\n\n` });
  await waitFor(() => s.state === "closed", { what: "closed" });
  assert.equal(r.events.length, 1);
  assert.equal(r.events[0].type, "session.thread_status_terminated");
  assert.equal(r.events[0].id, "evt_zz");
  await sleep(50);
  assert.equal((await server.streamRequests()).length, 1);
});

test("SessionStream receives the events of every thread, in order", async () => {
  const ids = await server.thread();
  const c1 = await server.childThread(ids.sessionId, ids.threadId, "A");
  const c2 = await server.childThread(ids.sessionId, ids.threadId, "B");
  await server.event(ids.sessionId, ids.threadId, msg("coord 0"));
  const s = open({ sessionId: ids.sessionId }, {}, tt.SessionStream);
  const r = record(s);
  await waitFor(() => r.events.length === 3, { what: "history" });
  await server.event(ids.sessionId, c1, msg("c1"));
  await server.event(ids.sessionId, c2, msg("c2"));
  await server.event(ids.sessionId, c2, { type: "session.thread_status_terminated", status: "terminated" });
  await server.event(ids.sessionId, ids.threadId, msg("coord 1"));
  await waitFor(() => r.events.length === 7, { what: "live" });
  const threads = r.events.map((e) => e.session_thread_id);
  assert.deepEqual(threads, [c1, c2, ids.threadId, c1, c2, c2, ids.threadId]);
  assert.equal(s.state, "open", "a thread's termination does not end the session stream");
  const [req] = await server.streamRequests();
  assert.equal(req.path, `/v1/sessions/${ids.sessionId}/events/stream`);
  // session.deleted ends it
  await server.event(ids.sessionId, ids.threadId, { type: "session.deleted" });
  await waitFor(() => s.state === "closed", { what: "closed after session.deleted" });
});

test("a listener that grows the wasm memory mid-chunk: the rest of the chunk arrives intact", async () => {
  // One chunk of 40 events. The first listener call pushes 48 MB of blank lines through an SseParser, which
  // grows the wasm memory and detaches every view of it, including the one over the batch
  // being delivered.
  const text = Array.from({ length: 40 }, (_, i) =>
    `id: evt_${String(i).padStart(4, "0")}\nevent: agent.message\ndata: {"n":${i},"content":"続き ${"x".repeat(i)}"}\n\n`).join("")
    + `data: {"type":"session.thread_status_terminated"}\n\n`;
  const s = new tt.ThreadStream({
    baseUrl: "http://threadtail.invalid", sessionId: "sess_m", threadId: "sthr_m", token: TOKEN,
    fetch: async () => new Response(new TextEncoder().encode(text), { headers: { "content-type": "text/event-stream" } }),
  });
  streams.push(s);
  const seen = [];
  s.onEvent((e) => {
    if (seen.length === 0) new tt.SseParser().push(new Uint8Array(48 << 20).fill(0x0a));
    seen.push(e);
  });
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed" });
  assert.deepEqual(r.errors, []);
  assert.equal(seen.length, 41);
  for (let i = 0; i < 40; i++) {
    assert.equal(seen[i].n, i);
    assert.equal(seen[i].type, "agent.message");
    assert.equal(seen[i].id, `evt_${String(i).padStart(4, "0")}`);
    assert.equal(seen[i].content, `続き ${"x".repeat(i)}`);
  }
});

test("large non-ASCII data (UTF-16 from wasm in Node): BOM kept, invalid bytes replaced, nothing carried over", async () => {
  const enc = new TextEncoder();
  const text = "調査結果".repeat(1000); // 12 KB of 3-byte characters
  const bytes = (s) => (typeof s === "string" ? enc.encode(s) : Uint8Array.from(s));
  const parts = [
    `id: e1\nevent: agent.message\ndata: {"content":"${text}"}\n\n`,
    // Not JSON: a BOM, a truncated sequence inside, and it ends in ASCII.
    `id: e2\nevent: agent.message\ndata: `, [0xef, 0xbb, 0xbf], text, [0xe3, 0x81], "x\n\n",
    // Ends in a truncated sequence: it must not leak into the next event.
    `id: e3\nevent: agent.message\ndata: `, text, [0xe3, 0x81], "\n\n",
    `id: e4\nevent: agent.message\ndata: {"content":"${text}あ"}\n\n`,
    `data: {"type":"session.thread_status_terminated"}\n\n`,
  ].map(bytes);
  const s = streamOfBody(parts);
  const seen = [];
  s.onEvent((e) => seen.push(e));
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed" });
  assert.deepEqual(seen.map((e) => e.id), ["e1", "e4", undefined]);
  assert.equal(seen[0].content, text);
  assert.equal(seen[1].content, text + "あ");
  assert.deepEqual(r.errors.map((e) => [e.kind, e.eventId]), [["decode", "e2"], ["decode", "e3"]]);
  assert.equal(r.errors[0].raw, "\ufeff" + text + "\ufffdx");
  assert.equal(r.errors[1].raw, text + "\ufffd");
});

test("text of every UTF-8 width, valid or not, arrives as TextDecoder + JSON.parse would give it", async () => {
  // In Node, Rust transcodes data that is not ASCII to UTF-16 16 bytes at a time (src/utf16.rs),
  // and the long strings of large events, escapes decoded (src/holes.rs); this runs that code as
  // shipped. Random mixes of 1- to 4-byte characters, with invalid bytes
  // dropped into some events, must give what the reference decoding of the same bytes gives.
  const enc = new TextEncoder();
  const dec = new TextDecoder("utf-8", { ignoreBOM: true });
  let seed = 3;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const pieces = ["a", "research ", "é", "ß", "\u07ff", "\u0800", "調査", "。", "\ufeff", "\uffff", "\ue000", "😀", "\ud7ff", '\\"', "\\n"];
  const bad = [[0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xe3, 0x81], [0xf8], [0xf0, 0x9f]];
  const parts = [];
  const datas = [];
  for (let i = 0; i < 300; i++) {
    let text = "";
    for (let k = 0, n = rnd(i % 10 === 0 ? 3000 : 60); k < n; k++) text += pieces[rnd(pieces.length)];
    // Large events have their long strings cut out by Rust (src/holes.rs): some are one
    // long string and no object, and some are not even JSON.
    const value = JSON.parse(`"${text}"`);
    let data = enc.encode(JSON.stringify(i % 50 === 0 ? value : { n: i, text: value, more: [{ text: value }] }));
    if (rnd(4) === 0) {
      const at = rnd(data.length);
      data = Uint8Array.from([...data.subarray(0, at), ...bad[rnd(bad.length)], ...data.subarray(at)]);
    }
    datas.push(data);
    parts.push(enc.encode(`id: e${i}\nevent: agent.message\ndata: `), data, enc.encode("\n\n"));
  }
  parts.push(enc.encode(`data: {"type":"session.thread_status_terminated"}\n\n`));
  const s = streamOfBody(parts);
  const got = new Map();
  s.onEvent((e) => got.set(e.id, e));
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "closed" });
  const errors = new Map(r.errors.map((e) => [e.eventId, e]));
  let valid = 0;
  for (let i = 0; i < datas.length; i++) {
    const text = dec.decode(datas[i]);
    let want;
    try {
      want = JSON.parse(text);
    } catch {
      assert.equal(errors.get(`e${i}`)?.raw, text, `e${i}: a decode error with the replaced text`);
      continue;
    }
    if (typeof want !== "object") {
      assert.equal(errors.get(`e${i}`)?.raw, text, `e${i}: not an object`);
      assert.equal(errors.get(`e${i}`)?.kind, "decode");
      continue;
    }
    valid++;
    assert.deepEqual(got.get(`e${i}`), { ...want, id: `e${i}`, type: "agent.message" }, `e${i}`);
  }
  assert.ok(valid > 150 && r.errors.length > 20, `both kinds are covered (${valid} valid, ${r.errors.length} not)`);
});

test("lastEventId is the last event handed over: during a listener, and after close() in one", async () => {
  // One chunk of five events; the listener closes the stream at the second. Resuming from
  // lastEventId must not skip the three it never saw.
  const text = [1, 2, 3, 4, 5].map((i) => `id: e${i}\nevent: agent.message\ndata: {"n":${i}}\n\n`).join("");
  for (const at of [2, 5]) {
    const s = new tt.ThreadStream({
      baseUrl: "http://threadtail.invalid", sessionId: "sess_l", threadId: "sthr_l", token: TOKEN,
      fetch: async () => new Response(text, { headers: { "content-type": "text/event-stream" } }),
      retry: { initialDelayMs: 60_000, minDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    streams.push(s);
    const during = [];
    s.onEvent((e) => {
      during.push([e.id, s.lastEventId]);
      if (e.n === at) s.close();
    });
    await waitFor(() => s.state === "closed" || during.length === 5, { what: "delivered" });
    s.close();
    assert.deepEqual(during, [1, 2, 3, 4, 5].slice(0, at).map((i) => [`e${i}`, `e${i}`]));
    assert.equal(s.lastEventId, `e${at}`);
  }
});
