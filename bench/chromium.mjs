// The Chromium half: serves bench/ pages, pkg/ and the peers' bundles from the reference server
// (--static), then runs throughput, latency (vs the native EventSource), heap and time to first
// event in headless Chromium (Debian's /usr/bin/chromium via playwright-core; no download).
//   node bench/chromium.mjs SERVER_URL SCALE REPS HEAP_EVENTS LATENCY_EVENTS  -> one JSON document
import { chromium } from "playwright-core";

const [base, scaleArg, repsArg, heapArg, latArg] = process.argv.slice(2);
const scale = Number(scaleArg), reps = Number(repsArg), heapEvents = Number(heapArg), latEvents = Number(latArg);
const TOKEN = "bench";
const log = (s) => process.stderr.write(s + "\n");

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--enable-precise-memory-info",
    "--js-flags=--expose-gc"],
});
// The native EventSource cannot send a token: the context adds the header to every request.
const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
const out = { version: browser.version() };

async function open(query = "", file = "page.html") {
  const page = await context.newPage();
  page.on("pageerror", (e) => log("page error: " + e.message));
  await page.goto(`${base}/${file}${query}`);
  await page.waitForFunction(() => window.benchReady === true || window.ttfeResult !== undefined, null, { timeout: 60_000 });
  return page;
}

const post = async (path, body) => {
  const r = await fetch(base + path, { method: "POST", body: JSON.stringify(body ?? {}) });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};

try {
  let page = await open();
  out.throughput = await page.evaluate(([s, r]) => window.bench.throughput(s, r), [scale, reps]);
  log("chromium throughput done");
  await page.close();

  // Latency: one fresh thread per subscriber, events posted one at a time from the page.
  out.latency = {};
  const { session_id: sid } = await post("/_control/sessions", {});
  const modes = ["native EventSource", "threadtail ThreadStream", "eventsource-parser + JSON.parse"];
  for (const round of [0, 1]) for (const mode of modes) {
    const th = await post(`/_control/sessions/${sid}/threads`, { agent_name: "Bench", parent_thread_id: null });
    page = await open(`?sid=${sid}&tid=${th.id}`);
    const r = await page.evaluate(([m, n]) => window.bench.latency(m, n, 500), [mode, latEvents]);
    await page.close();
    // Two rounds, interleaved; the second (warm) is kept.
    if (round === 1) out.latency[mode] = r;
  }
  log("chromium latency done");

  out.heap = {};
  for (const name of ["threadtail ThreadStream", "eventsource-parser + JSON.parse"]) {
    page = await open();
    out.heap[name] = await page.evaluate(([n, t]) => window.bench.heap(n, t), [name, heapEvents]);
    await page.close();
  }
  log("chromium heap done");

  // Time to first event: a fresh page per run (HTTP cache warm after the first), median of 5.
  out.ttfe = {};
  for (const name of ["threadtail ThreadStream", "threadtail ThreadStream (bundled)",
    "threadtail ThreadStream (bundled, preload)", "threadtail SseParser", "eventsource-parser + JSON.parse",
    "@microsoft/fetch-event-source", "eventsource"]) {
    const ms = [];
    for (let i = 0; i < 6; i++) {
      const p = await open(`?ttfe=${encodeURIComponent(name)}`, name.includes("preload") ? "preload.html" : "page.html");
      const r = await p.evaluate(() => window.ttfeResult);
      await p.close();
      if (i > 0) ms.push(r.ms);
    }
    ms.sort((a, b) => a - b);
    out.ttfe[name] = { ms: ms[2], min: ms[0], max: ms[4] };
  }
  log("chromium ttfe done");
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
