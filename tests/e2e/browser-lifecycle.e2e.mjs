// The package's browser entry in Debian's headless Chromium (playwright-core), against a small
// scripted loopback server that serves the page, pkg/ and a stream route:
// - the browser delivery path (one decode per chunk) advances the resume point: every
//   reconnect sends the id of the last event the page received;
// - `transport: "eventsource"`: close() called outside any listener ends the native
//   EventSource: the server sees the connection end within 1 s and no new one for 3 s.
// Needs pkg/. Last line: `checks: N passed`.
import { checklist, launchChromium } from "./harness.mjs";
import { createServer } from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve, extname } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { check, done, failed } = checklist();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
if (!existsSync(join(ROOT, "pkg/index.js"))) throw new Error("pkg/ is missing: npm test builds it first");

const N = 300; // events of the resume check
const frame = (i) => `id: evt_${String(i).padStart(6, "0")}\nevent: agent.message\ndata: {"n":${i}}\n\n`;
const stream = { requests: [], open: 0 }; // the resume check's stream route
const es = { connections: 0, open: 0 }; // the EventSource route
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".json": "application/json" };

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/" || url.pathname === "/index.html") {
    res.writeHead(200, { "content-type": "text/html" });
    return res.end("<!doctype html><title>threadtail</title>");
  }
  if (url.pathname.startsWith("/pkg/")) {
    const file = join(ROOT, url.pathname);
    if (!file.startsWith(join(ROOT, "pkg")) || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    return res.end(readFileSync(file));
  }
  if (url.pathname === "/v1/sessions/sess_r/threads/sthr_r/stream") {
    // Resumes after Last-Event-ID; each connection sends 1 to 40 events, then drops, until
    // the last one, which ends the thread.
    const last = req.headers["last-event-id"];
    stream.requests.push(last);
    const from = last === undefined ? 0 : Number(last.slice(4)) + 1;
    const count = 1 + ((stream.requests.length * 7919) % 40);
    res.writeHead(200, { "content-type": "text/event-stream" });
    let body = "";
    for (let i = from; i < Math.min(N, from + count); i++) body += frame(i);
    if (from + count >= N) body += "event: session.thread_status_terminated\ndata: {}\n\n";
    return res.end(body);
  }
  if (url.pathname === "/v1/sessions/sess_e/threads/sthr_e/stream") {
    // Ends every response: a native EventSource reconnects by itself (after `retry:`).
    es.connections += 1;
    es.open += 1;
    req.on("close", () => (es.open -= 1));
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`retry: 100\nid: e${es.connections}\nevent: agent.message\ndata: {"n":${es.connections}}\n\n`);
    setTimeout(() => res.end(), 50);
    return;
  }
  res.writeHead(404).end();
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;

let browser;
try {
  browser = await launchChromium();
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(origin + "/index.html");

  // 1. The resume point in the browser delivery path.
  const result = await page.evaluate(async ({ baseUrl }) => {
    const tt = await import("/pkg/index.js");
    const delivered = [];
    const atReconnect = [];
    const s = new tt.ThreadStream({
      baseUrl, sessionId: "sess_r", threadId: "sthr_r",
      retry: { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0, healthyAfterMs: 0 },
    });
    s.onEvent((e) => delivered.push(e.id));
    s.onStateChange((state) => {
      if (state === "reconnecting") atReconnect.push({ lastEventId: s.lastEventId, lastDelivered: delivered.at(-1) });
    });
    await new Promise((done) => {
      s.onStateChange((state) => state === "closed" && done());
      // A stream that never reaches the end (a resume point that does not move) fails here.
      setTimeout(() => { s.close(); done(); }, 20_000);
    });
    return { delivered, atReconnect };
  }, { baseUrl: origin + "/v1" });
  const want = Array.from({ length: N }, (_, i) => `evt_${String(i).padStart(6, "0")}`);
  check("every event once, in order, in the browser", JSON.stringify(result.delivered.slice(0, N)) === JSON.stringify(want),
    `${result.delivered.length} delivered`);
  check("lastEventId is the last event received at each drop",
    result.atReconnect.length > 5 && result.atReconnect.every((r) => r.lastEventId === r.lastDelivered),
    JSON.stringify(result.atReconnect.slice(0, 5)));
  check("each reconnect sent the last received id as Last-Event-ID",
    stream.requests.length === result.atReconnect.length + 1 && stream.requests[0] === undefined &&
      stream.requests.slice(1).every((h, i) => h === result.atReconnect[i].lastDelivered),
    JSON.stringify(stream.requests.slice(0, 6)));

  // 2. The native EventSource, closed from outside any listener.
  await page.evaluate(async ({ baseUrl }) => {
    const tt = await import("/pkg/index.js");
    window.esEvents = 0;
    window.esStream = new tt.ThreadStream({ baseUrl, sessionId: "sess_e", threadId: "sthr_e", transport: "eventsource" });
    window.esStream.onEvent(() => (window.esEvents += 1));
  }, { baseUrl: "/v1" });
  await page.waitForFunction(() => window.esEvents >= 3, null, { timeout: 10_000 });
  check("the EventSource transport reconnects by itself and delivers", es.connections >= 3, `${es.connections}`);
  await page.evaluate(() => setTimeout(() => window.esStream.close(), 0));
  await sleep(1000);
  const atClose = es.connections;
  check("after close() the server sees the connection end within 1 s", es.open === 0, `${es.open} open`);
  await sleep(3000);
  check("and no new connection in the next 3 s", es.connections === atClose, `${es.connections - atClose} new`);
  check("the stream reads closed", (await page.evaluate(() => window.esStream.state)) === "closed");
  check("no page errors", pageErrors.length === 0, pageErrors.join("; "));
  done();
} catch (e) {
  failed(e);
} finally {
  await browser?.close();
  server.closeAllConnections();
  server.close();
}
