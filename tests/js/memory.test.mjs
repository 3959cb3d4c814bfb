// Memory stays flat while a stream runs: nothing keeps the body's chunks (or events) alive.
// A regression test for a leak where every read was raced against one long-lived promise,
// which kept a reaction, and through it the chunk, per read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as tt from "../../pkg/node.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");

test("100,000 events through ThreadStream retain no chunks", async () => {
  const enc = new TextEncoder();
  const N = 100_000;
  const PER_CHUNK = 64;
  const payload = "x".repeat(400);
  let made = 0;
  let warm = null;
  let late = null;
  const external = () => {
    gc();
    gc();
    return process.memoryUsage().external;
  };
  const body = new ReadableStream({
    pull(c) {
      if (made >= 10_000 && warm === null) warm = external();
      if (made >= N) {
        // Measured while the connection is still open: a leak tied to the connection is
        // released when it ends, so only a measurement during the stream can see it.
        late = external();
        c.enqueue(enc.encode('id: evt_999999999999\nevent: session.thread_status_terminated\ndata: {}\n\n'));
        c.close();
        return;
      }
      let s = "";
      for (let k = 0; k < PER_CHUNK; k++, made++) {
        s += `id: evt_${String(made).padStart(12, "0")}\nevent: agent.message\ndata: {"content":"${payload}"}\n\n`;
      }
      c.enqueue(enc.encode(s));
    },
  });
  const stream = new tt.ThreadStream({
    baseUrl: "http://memory.invalid/v1", sessionId: "sess_m", threadId: "sthr_m",
    fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
  });
  let n = 0;
  stream.onEvent(() => n++);
  await new Promise((resolve) => stream.onStateChange((s) => s === "closed" && resolve()));
  const growth = late - warm;
  assert.equal(n, made + 1);
  // The body was ~45 MB; a leak of the chunks shows as tens of MB here.
  assert.ok(growth < 8 * 1024 * 1024, `external memory grew by ${(growth / 1048576).toFixed(1)} MB`);
});
