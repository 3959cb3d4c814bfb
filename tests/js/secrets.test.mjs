// No token or custom header value appears in anything the client reports, whatever a
// platform's or server's own message says: errors (message and fields), reconnect reasons,
// rejected list iterations.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tt from "../../pkg/node.js";
import { record, waitFor } from "./helpers/server.mjs";

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
