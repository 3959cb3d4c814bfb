// No token or custom header value appears in anything the client reports, whatever a
// platform's or server's own message says: errors (message and fields), reconnect reasons,
// rejected list iterations.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tt from "../../pkg/node.js";
import { createServer } from "node:http";
import { record, waitFor, sleep } from "./helpers/server.mjs";

const TOKEN = "sentinel-TOKEN-9f3a7c";
const KEY = "sentinel-KEY-77c1e0";
const FAST = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0, healthyAfterMs: 0, maxAttempts: 3 };

/** Every string the client handed out, for the sentinels. */
function leaks(r) {
  const texts = [
    ...r.errors.flatMap((e) => [e.message, e.serverMessage, e.raw, e.type, String(e)]),
    ...r.reconnects.map((x) => x.reason),
  ].filter((t) => typeof t === "string");
  return texts.filter((t) => t.includes(TOKEN) || t.includes(KEY));
}

const options = (fetch, extra = {}) => ({
  baseUrl: "http://threadtail.invalid/v1", sessionId: "sess_s", threadId: "sthr_s",
  headers: { "x-api-key": KEY }, retry: FAST, fetch, ...extra,
});

test("a platform error quoting the token and a header value: redacted in errors and reasons", async () => {
  for (const token of [TOKEN, async () => TOKEN]) {
    const s = new tt.ThreadStream(options(async (url, init) => {
      throw new TypeError(`Headers.append: "Bearer ${TOKEN}" and "${init.headers["x-api-key"]}" are invalid`);
    }, { token }));
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "gave up" });
    assert.ok(r.errors.length >= 3 && r.reconnects.length >= 2, `${r.errors.length} errors`);
    assert.ok(r.errors.some((e) => e.message.includes("[redacted]")));
    assert.deepEqual(leaks(r), []);
  }
});

test("server bodies echoing the secrets (401, 503, an in-stream error frame): redacted", async () => {
  let n = 0;
  const body = (type) => JSON.stringify({ type: "error", error: { type, message: `token ${TOKEN} / key ${KEY}`, param: KEY } });
  const s = new tt.ThreadStream(options(async () => {
    n++;
    if (n === 1) return new Response(body("api_error"), { status: 503, headers: { "content-type": "application/json" } });
    if (n === 2) {
      return new Response(`event: error\ndata: ${body("overloaded_error")}\n\n`, { headers: { "content-type": "text/event-stream" } });
    }
    return new Response(body("authentication_error"), { status: 401, headers: { "content-type": "application/json" } });
  }, { token: TOKEN }));
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "the 401" });
  assert.deepEqual(r.errors.map((e) => e.kind), ["server", "server", "authentication"]);
  assert.deepEqual(leaks(r), []);
  assert.ok(r.errors.every((e) => e.serverMessage === undefined || e.serverMessage.includes("[redacted]")));
});

test("an event that is not JSON and quotes the token: the decode error's raw text is redacted", async () => {
  const s = new tt.ThreadStream(options(async () => new Response(
    `id: e1\ndata: not json ${TOKEN}\n\nevent: session.thread_status_terminated\ndata: {}\n\n`,
    { headers: { "content-type": "text/event-stream" } },
  ), { token: TOKEN }));
  const r = record(s);
  await waitFor(() => s.state === "closed", { what: "the end" });
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].kind, "decode");
  assert.ok(r.errors[0].raw.includes("[redacted]"), r.errors[0].raw);
  assert.deepEqual(leaks(r), []);
});

test("a list whose requests fail quoting the secrets rejects without them", async () => {
  const failing = async () => { throw new TypeError(`fetch failed for Bearer ${TOKEN} with ${KEY}`); };
  const it = tt.listThreadEvents({ ...options(failing), token: TOKEN, maxAttempts: 1 });
  let error;
  try {
    for await (const _ of it) { /* nothing */ }
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof tt.ThreadtailError);
  assert.ok(!String(error.message).includes(TOKEN) && !String(error.message).includes(KEY), error.message);
});

/** A loopback server answering with `handle(req, res)`; records each request's headers. */
async function loopback(handle) {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url, headers: req.headers });
    handle(req, res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const stream = (res) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.end('id: b1\ndata: {"from":"B"}\n\nevent: session.thread_status_terminated\ndata: {}\n\n');
};

test("a redirect to another origin is not followed: a typed error naming it, no credential reaches it", async () => {
  const b = await loopback((req, res) => (req.url.includes("/events?")
    ? (res.writeHead(200, { "content-type": "application/json" }), res.end('{"data":[],"next_page":null}'))
    : stream(res)));
  const a = await loopback((req, res) => {
    res.writeHead(307, { location: `${b.origin}${req.url}` });
    res.end();
  });
  try {
    const s = new tt.ThreadStream({ ...options(undefined), fetch: undefined, baseUrl: `${a.origin}/v1`, token: TOKEN });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "the refusal" });
    await sleep(100);
    assert.deepEqual(r.events, []);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].kind, "redirect");
    assert.ok(r.errors[0].message.includes(b.origin), r.errors[0].message);
    assert.deepEqual(leaks(r), []);
    await assert.rejects(async () => {
      for await (const _ of tt.listThreadEvents({ baseUrl: `${a.origin}/v1`, sessionId: "sess_s", threadId: "sthr_s", token: TOKEN, headers: { "x-api-key": KEY } })) { /* nothing */ }
    }, (e) => e.kind === "redirect");
    assert.equal(b.requests.length, 0, "the other origin received nothing");
    assert.equal(a.requests.length, 2);
  } finally {
    await a.close();
    await b.close();
  }
});

test("a redirect within the origin is followed with the credentials; a loop or no Location is a typed error", async () => {
  const a = await loopback((req, res) => {
    if (req.url.startsWith("/old/")) {
      res.writeHead(308, { location: req.url.replace("/old/", "/v1/") });
      return res.end();
    }
    if (req.url.startsWith("/loop/")) {
      res.writeHead(302, { location: req.url });
      return res.end();
    }
    if (req.url.startsWith("/nowhere/")) {
      res.writeHead(302);
      return res.end();
    }
    stream(res);
  });
  try {
    const s = new tt.ThreadStream({ ...options(undefined), fetch: undefined, baseUrl: `${a.origin}/old`, token: TOKEN });
    const r = record(s);
    await waitFor(() => s.state === "closed", { what: "the end" });
    assert.deepEqual(r.events.map((e) => e.from ?? e.type), ["B", "session.thread_status_terminated"]);
    assert.deepEqual(r.errors, []);
    const followed = a.requests.filter((q) => q.url.startsWith("/v1/"));
    assert.equal(followed.length, 1);
    assert.equal(followed[0].headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(followed[0].headers["x-api-key"], KEY);
    for (const prefix of ["/loop", "/nowhere"]) {
      const t = new tt.ThreadStream({ ...options(undefined), fetch: undefined, baseUrl: `${a.origin}${prefix}`, token: TOKEN });
      const rt = record(t);
      await waitFor(() => t.state === "closed", { what: `${prefix} refused` });
      assert.deepEqual(rt.errors.map((e) => e.kind), ["redirect"], prefix);
    }
    assert.ok(a.requests.filter((q) => q.url.startsWith("/loop/")).length <= 2);
  } finally {
    await a.close();
  }
});
