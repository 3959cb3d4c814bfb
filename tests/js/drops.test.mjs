// 5,000 events, the connection cut at 200 random byte offsets (inside lines, CRLFs and
// multi-byte characters): every event delivered once, in order, and every reconnect resumes
// from the last delivered id.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tt from "../../pkg/node.js";
import { startServer, TOKEN, record, waitFor, prng } from "./helpers/server.mjs";

let server;
before(async () => {
  server = await startServer(["--keepalive-ms", "1000"]);
});
after(() => server.stop());

const N = 5000;
const DROPS = 200;

test(`${DROPS} drops at random byte offsets over ${N} events: none lost, none repeated, order kept`, async () => {
  const seed = Number(process.env.THREADTAIL_SEED ?? Date.now() % 100000);
  const rnd = prng(seed);
  const ids = await server.thread();
  // The ids the server will give (evt_ + 32 hex digits of a global counter), so that some
  // events can be written as raw frames with CRLF line ends and their real ids.
  const lastSeq = (await server.status()).last_seq;
  const idOf = (i) => `evt_${(lastSeq + 1 + i).toString(16).padStart(32, "0")}`;
  const texts = [];
  const events = [];
  for (let i = 0; i < N; i++) {
    const text = `イベント ${i}: こんにちは、世界 🌏 ${"é".repeat(i % 7)}`;
    texts.push(text);
    const content = [{ type: "text", text }];
    if (i % 4 === 1) {
      const data = JSON.stringify({
        id: idOf(i),
        type: "agent.message",
        session_id: ids.sessionId,
        session_thread_id: ids.threadId,
        content,
      });
      events.push({ type: "agent.message", _raw_frame: `id: ${idOf(i)}\r\nevent: agent.message\r\ndata: ${data}\r\n\r\n` });
    } else {
      events.push({ type: "agent.message", content });
    }
  }
  const t0 = Date.now();
  const stored = await server.batch(ids.sessionId, ids.threadId, { events });
  assert.equal(stored.count, N);
  assert.equal(stored.last_id, idOf(N - 1));
  const total = N; // a coordinator thread has no session.thread_created event

  // Each stream connection gets its own cut, armed by the fetch wrapper just before it.
  let armed = 0;
  const sent = []; // the Last-Event-ID of each request, and the last id delivered at that time
  let s;
  const delivered = [];
  const wrapped = async (url, init) => {
    sent.push({ header: init.headers["Last-Event-ID"], delivered: delivered.at(-1)?.id });
    if (armed < DROPS) {
      armed++;
      const fault = { count: 1, close_after_bytes: 1 + Math.floor(rnd() * 8000) };
      if (rnd() < 0.2) fault.abort = true;
      if (rnd() < 0.3) fault.chunk_bytes = 1 + Math.floor(rnd() * 700);
      await server.faults(fault);
    } else {
      await server.faults();
    }
    return fetch(url, init);
  };
  s = new tt.ThreadStream({
    baseUrl: server.base,
    token: TOKEN,
    ...ids,
    fetch: wrapped,
    retry: { initialDelayMs: 1, maxDelayMs: 4, minDelayMs: 0, healthyAfterMs: 0 },
  });
  const r = record(s);
  s.onEvent((e) => delivered.push(e));
  try {
    await waitFor(() => delivered.length >= total, { timeoutMs: 40000, what: `all events (seed ${seed})` });
    await waitFor(() => armed === DROPS && s.state === "open", { what: "the last connection" });
  } finally {
    s.close();
  }
  console.log(`seed ${seed}: ${sent.length} connections in ${Date.now() - t0} ms`);
  const got = delivered.map((e) => e.content[0].text);
  assert.equal(delivered.length, total, `seed ${seed}`);
  assert.equal(got.length, N);
  for (let i = 0; i < N; i++) {
    if (got[i] !== texts[i]) assert.fail(`event ${i}: ${got[i]} !== ${texts[i]} (seed ${seed})`);
  }
  const idList = delivered.map((e) => e.id);
  assert.equal(new Set(idList).size, total, "no duplicate id");
  assert.deepEqual(idList, Array.from({ length: N }, (_, i) => idOf(i)));
  assert.ok(r.metas.every((m) => m.update === false));
  // every connection resumed from the last delivered id
  assert.ok(sent.length >= DROPS + 1, `${sent.length} connections`);
  assert.equal(sent[0].header, undefined);
  for (const [i, x] of sent.entries()) {
    assert.equal(x.header, x.delivered, `connection ${i} sent Last-Event-ID ${x.header}, delivered ${x.delivered}`);
  }
  const log = await server.streamRequests();
  assert.equal(log.length, sent.length);
  assert.deepEqual(log.map((q) => q.headers["last-event-id"]), sent.map((x) => x.header));
  assert.equal(r.reconnects.length, sent.length - 1);
  assert.ok(r.errors.every((e) => e.kind === "network"), r.errors.map((e) => e.kind).join());
});
