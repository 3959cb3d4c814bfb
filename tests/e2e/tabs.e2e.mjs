// threadtail/tabs in Debian's headless Chromium (playwright-core): several pages of one browser
// context on the reference server's own origin (--static tests/e2e/tabs-site with pkg/), each
// following the same thread with a SharedThreadStream. Stream connections are counted on the
// server: its request log (GETs of .../stream) and /_control/status's open_streams.
// Prints the measured figures (connections per number of tabs, hand-over time, time to first
// event after a reload with and without the cache). Needs pkg/ and
// target/debug/threadtail-devserver. Last line: `checks: N passed`.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT, checklist, launchChromium, prepareSite, requireBuilt, startDevserver } from "./harness.mjs";

const SITE = join(ROOT, ".tmp/e2e-tabs-site");
const TOKEN = "devtoken";
const WAIT = 20_000;
const { check, done, failed } = checklist();
const figures = [];
const figure = (text) => { figures.push(text); console.log(`# ${text}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

requireBuilt(["pkg/tabs.js", "pkg/index.js", "target/debug/threadtail-devserver"]);
prepareSite("tests/e2e/tabs-site", SITE);

const { base, process: server } = await startDevserver(["--token", TOKEN, "--scenario", "empty", "--keepalive-ms", "500", "--static", SITE]);
const control = async (path, body, method = body === undefined ? "GET" : "POST") => {
  const r = await fetch(base + "/_control" + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
};
const streamRequests = async (threadId) => (await control("/requests"))
  .filter((r) => r.method === "GET" && r.path.endsWith(`/threads/${threadId}/stream`));
const openStreams = async () => (await control("/status")).open_streams;
async function newThread(name) {
  const sessionId = `sess_${name}`;
  await control("/sessions", { session_id: sessionId });
  const thread = await control(`/sessions/${sessionId}/threads`, { agent_name: "Coordinator", parent_thread_id: null });
  const post = (count, text) => control(`/sessions/${sessionId}/threads/${thread.id}/events/batch`,
    { count, template: { type: "agent.message", content: `${text} {i}` } });
  return { sessionId, threadId: thread.id, post };
}
/** Every event id of the thread in creation order (these ids sort in creation order: --ids seq). */
async function allIds(t) {
  const r = await fetch(`${base}/v1/sessions/${t.sessionId}/threads/${t.threadId}/events?limit=1000`,
    { headers: { Authorization: `Bearer ${TOKEN}` } });
  return (await r.json()).data.map((e) => e.id);
}
const options = (t, extra = {}) => ({ baseUrl: base + "/v1", sessionId: t.sessionId, threadId: t.threadId, token: TOKEN,
  retry: { initialDelayMs: 50, maxDelayMs: 200, minDelayMs: 20 }, ...extra });

let browser;
try {
  browser = await launchChromium();
  const context = await browser.newContext();
  const pages = [];
  const open = async (opts) => {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.log("pageerror:", e.message));
    await page.goto(base + "/index.html");
    await page.waitForFunction(() => window.ready === true);
    if (opts) await page.evaluate((o) => window.start(o), opts);
    pages.push(page);
    return page;
  };
  const got = (page) => page.evaluate(() => window.got.map((g) => g.id));
  const role = (page) => page.evaluate(() => window.stream?.role);
  const waitCount = (page, n, what) => page.waitForFunction((n) => (window.got?.length ?? 0) >= n, n, { timeout: WAIT })
    .catch(async () => { throw new Error(`${what}: ${await page.evaluate(() => window.got?.length)} of ${n} events; log ${JSON.stringify(await page.evaluate(() => window.log))}`); });

  // ---- three tabs, one connection ------------------------------------------------------------
  const t1 = await newThread("tabs1");
  await t1.post(20, "history");
  const counts = [];
  for (let i = 0; i < 3; i++) {
    const p = await open(options(t1));
    await waitCount(p, 20, `tab ${i + 1} gets the history`);
    await sleep(100);
    counts.push(`${i + 1} tab${i ? "s" : ""}: ${(await streamRequests(t1.threadId)).length} request, ${await openStreams()} open`);
  }
  figure(`stream connections on the server: ${counts.join("; ")}`);
  check("three tabs: one stream request in the server's log", (await streamRequests(t1.threadId)).length === 1, counts.join("; "));
  check("three tabs: one open stream on the server", (await openStreams()) === 1);
  const roles = await Promise.all(pages.map(role));
  check("one leader, two followers", roles.filter((r) => r === "leader").length === 1 && roles.filter((r) => r === "follower").length === 2, roles.join(","));
  const history = await allIds(t1);
  for (const [i, p] of pages.entries()) {
    check(`tab ${i + 1} has the history once, in order`, JSON.stringify(await got(p)) === JSON.stringify(history));
  }

  // A dedicated worker joins the same stream: still one connection.
  const workerPage = pages[1];
  await workerPage.evaluate((o) => window.worker(o), options(t1));
  await workerPage.waitForFunction(() => window.workerGot.filter((m) => m.id).length >= 20, null, { timeout: WAIT });
  check("a dedicated worker follows the same connection (still one stream request)", (await streamRequests(t1.threadId)).length === 1);

  // ---- the leader closes: hand-over; 500 events with drops ------------------------------------
  // Drops on every connection for a while: each reads ~12 KB (about 50 events), then breaks.
  await control("/faults", { count: 8, close_after_bytes: 12_000, abort: true });
  await t1.post(250, "before");
  await sleep(150);
  const leaderIndex = roles.indexOf("leader");
  const leader = pages[leaderIndex];
  const closedAt = Date.now();
  await leader.close();
  pages.splice(leaderIndex, 1);
  let handover = null;
  for (const p of pages) {
    try {
      await p.waitForFunction(() => window.stream.role === "leader", null, { timeout: 2000 });
      handover = await p.evaluate(() => window.log.filter((l) => l.role === "leader").pop());
      break;
    } catch { /* the other one */ }
  }
  check("a follower leads after the leading tab closed", handover !== null);
  const handoverMs = handover.at - closedAt;
  await sleep(300);
  const newRequest = (await streamRequests(t1.threadId)).filter((r) => Date.parse(r.at) >= closedAt)[0];
  figure(`hand-over: the new leader holds the lock ${handoverMs} ms after the leading page closed; ` +
    `the server sees its stream request ${newRequest ? Date.parse(newRequest.at) - closedAt : "?"} ms after`);
  check("another tab leads within 1 s", handoverMs < 1000, `${handoverMs} ms`);
  await t1.post(250, "after");
  const late = await open(options(t1)); // a late joiner after the hand-over
  const want = await allIds(t1);
  check("the thread now has 520 events", want.length === 520, String(want.length));
  for (const [i, p] of pages.entries()) {
    await waitCount(p, 520, `tab ${i + 1} after the hand-over`);
    await sleep(200);
    const ids = await got(p);
    check(`tab ${i + 1}${p === late ? " (joined late)" : ""}: 500 events with drops and a hand-over, each once and in order`,
      JSON.stringify(ids) === JSON.stringify(want), `${ids.length} events, ${new Set(ids).size} distinct`);
  }
  // The worker went with its page when that page was the leader that closed.
  if (workerPage !== leader) {
    // Given the time the tabs had; a shortfall is the check's to report.
    await workerPage.waitForFunction(() => window.workerGot.filter((m) => m.id).length >= 520, null, { timeout: WAIT }).catch(() => {});
    const workerIds = await workerPage.evaluate(() => window.workerGot.filter((m) => m.id).map((m) => m.id));
    check("the worker too: each once and in order", JSON.stringify(workerIds) === JSON.stringify(want), `${workerIds.length}`);
  }
  const reqs = await streamRequests(t1.threadId);
  figure(`after the hand-over: ${reqs.length} stream requests in all (drops make reconnects), ${await openStreams()} open`);
  check("one open stream after the hand-over", (await openStreams()) === 1);
  for (const p of pages.splice(0)) await p.close();
  await control("/faults", undefined, "DELETE");

  // ---- reload: the cache first, then the network, each once ------------------------------------
  const t2 = await newThread("tabs2");
  await t2.post(100, "cached");
  let visit = 0; // a new query each time: a change of the hash alone would not load the page again
  const hash = (o) => `?visit=${++visit}#` + encodeURIComponent(JSON.stringify(o));
  const reloadPage = await context.newPage();
  reloadPage.on("pageerror", (e) => console.log("pageerror:", e.stack));
  // Without the cache: the time to the first event after a reload.
  await reloadPage.goto(base + "/index.html" + hash(options(t2)));
  await waitCount(reloadPage, 100, "first load");
  await reloadPage.reload();
  await waitCount(reloadPage, 100, "reload without the cache");
  const noCache = await reloadPage.evaluate(() => window.got[0].t);
  // With the cache.
  await reloadPage.goto(base + "/index.html" + hash(options(t2, { persist: true })));
  await waitCount(reloadPage, 100, "first load with persist");
  await sleep(300); // the cache is written 50 ms after a batch
  await reloadPage.goto("about:blank");
  await t2.post(5, "while away");
  await control("/faults", { count: 1, stall_ms: 300 }); // the network answers 300 ms late
  await reloadPage.goto(base + "/index.html" + hash(options(t2, { persist: true })));
  await waitCount(reloadPage, 105, "reload with the cache");
  await sleep(200);
  const after = await reloadPage.evaluate(() => window.got);
  const firstCached = after.find((g) => g.cached);
  const firstNetwork = after.find((g) => !g.cached);
  figure(`time to first event after a reload: ${noCache.toFixed(0)} ms without the cache (network); with the cache ${firstCached?.t.toFixed(0)} ms (cached), first network event ${firstNetwork?.t.toFixed(0)} ms (answer stalled 300 ms)`);
  check("after a reload the cached events come first, flagged", firstCached && after.slice(0, after.indexOf(firstNetwork)).every((g) => g.cached) && after.filter((g) => g.cached).length >= 95);
  check("the cached events come before the network answers", firstCached.t < firstNetwork.t, `${firstCached.t} vs ${firstNetwork.t}`);
  const want2 = await allIds(t2);
  const ids2 = after.map((g) => g.id);
  check("then the stream continues: each event once and in order", JSON.stringify(ids2) === JSON.stringify(want2.slice(want2.length - ids2.length)) && ids2.length >= 105,
    `${ids2.length} events`);
  const lastRequest = (await streamRequests(t2.threadId)).pop();
  check("the reload resumed from the stored point (Last-Event-ID)", lastRequest.headers["last-event-id"] === after.filter((g) => g.cached).pop().id);

  // ---- no secret in what the tabs store or name: every IndexedDB record, every lock (and so
  // channel) name, searched for the token
  const stored = await reloadPage.evaluate(async () => {
    const db = await new Promise((ok, fail) => { const r = indexedDB.open("threadtail"); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const store = db.transaction("streams").objectStore("streams");
    const all = (req) => new Promise((ok) => { req.onsuccess = () => ok(req.result); });
    const [keys, values] = await Promise.all([all(store.getAllKeys()), all(store.getAll())]);
    db.close();
    const locks = await navigator.locks.query();
    return JSON.stringify({ keys, values, locks: [...locks.held, ...locks.pending].map((l) => l.name) });
  });
  check("the persisted records and the lock/channel names never hold the token",
    stored.includes("cached") && !stored.includes(TOKEN), `${stored.length} bytes searched`);

  // ---- a store that is corrupt, of another version, or over quota: discarded, a warning, the stream goes on
  for (const [name, setup, kind] of [
    ["corrupt", (key) => ({ v: 1, lastId: 7, events: "x", key }), "persist_corrupt"],
    ["another version", (key) => ({ v: 99, lastId: "evt_x", events: [], key }), "persist_version"],
  ]) {
    const key = `bad-${kind}`;
    await reloadPage.goto(base + "/index.html");
    await reloadPage.waitForFunction(() => window.ready === true);
    await reloadPage.evaluate(async ({ record, key }) => {
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open("threadtail", 1);
        r.onupgradeneeded = () => { if (!r.result.objectStoreNames.contains("streams")) r.result.createObjectStore("streams"); };
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      await new Promise((ok) => { const tx = db.transaction("streams", "readwrite"); tx.objectStore("streams").put(record, "threadtail:" + key); tx.oncomplete = ok; });
      db.close();
    }, { record: setup(key), key });
    await reloadPage.evaluate((o) => window.start(o), options(t2, { persist: { key } }));
    await waitCount(reloadPage, 105, `a ${name} store`);
    const log = await reloadPage.evaluate(() => window.log);
    check(`a ${name} store: discarded with a ${kind} warning, and every event arrives`, log.some((l) => l.warning === kind), JSON.stringify(log));
  }
  await reloadPage.goto(base + "/index.html");
  await reloadPage.waitForFunction(() => window.ready === true);
  await reloadPage.evaluate((o) => {
    IDBObjectStore.prototype.put = function () { throw new DOMException("quota", "QuotaExceededError"); };
    window.start(o);
  }, options(t2, { persist: { key: "quota" } }));
  await waitCount(reloadPage, 105, "over quota");
  await reloadPage.waitForFunction(() => window.log.some((l) => l.warning === "persist_quota"), null, { timeout: WAIT });
  const quotaIds = await got(reloadPage);
  check("over quota: a persist_quota warning, and the stream goes on", quotaIds.length === 105 && new Set(quotaIds).size === 105);
  await reloadPage.close();

  console.log(`# ${figures.join("\n# ")}`);
  done();
} catch (e) {
  failed(e);
} finally {
  await browser?.close();
  server.kill();
  rmSync(SITE, { recursive: true, force: true });
}
