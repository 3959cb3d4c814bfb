// The package in a Web Worker (a module worker in Debian's headless Chromium, driven by
// playwright-core): fetch, timers and the wasm all come from the worker's global object.
// Needs pkg/ and target/debug/threadtail-devserver. Last line: `checks: N passed`.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT, checklist, launchChromium, prepareSite, requireBuilt, startDevserver } from "./harness.mjs";

const SITE = join(ROOT, ".tmp/e2e-worker-site");
const TOKEN = "devtoken";
const { check, done, failed } = checklist();

requireBuilt(["pkg/index.js", "target/debug/threadtail-devserver"]);
prepareSite("tests/e2e/worker-site", SITE);

const { base, process: server } = await startDevserver(["--token", TOKEN, "--scenario", "empty", "--keepalive-ms", "500", "--static", SITE]);
const control = async (path, body) => {
  const r = await fetch(base + "/_control" + path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
};

let browser;
try {
  const sessionId = "sess_worker1";
  await control("/sessions", { session_id: sessionId });
  const thread = await control(`/sessions/${sessionId}/threads`, { agent_name: "Coordinator", parent_thread_id: null });
  for (const text of ["一", "二", "三"]) {
    await control(`/sessions/${sessionId}/threads/${thread.id}/events`, { type: "agent.message", content: text });
  }
  browser = await launchChromium();
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.log("pageerror:", e.message));
  await page.goto(base + "/index.html");
  await page.evaluate(({ baseUrl, sessionId, threadId, token }) => {
    window.messages = [];
    const w = new Worker("./worker.js", { type: "module" });
    w.onmessage = ({ data }) => window.messages.push(data);
    w.onerror = (e) => window.messages.push({ kind: "worker-error", message: e.message });
    w.postMessage({ baseUrl, sessionId, threadId, token });
  }, { baseUrl: base + "/v1", sessionId, threadId: thread.id, token: TOKEN });

  const events = () => page.evaluate(() => window.messages.filter((m) => m.kind === "event"));
  await page.waitForFunction(() => window.messages.filter((m) => m.kind === "event").length >= 3, null, { timeout: 20_000 })
    .catch(async (e) => { throw new Error(e.message + " " + JSON.stringify(await page.evaluate(() => window.messages))); });
  const history = await events();
  check("the worker receives the thread's history", history.map((e) => e.text).join("") === "一二三", JSON.stringify(history));
  await control(`/sessions/${sessionId}/threads/${thread.id}/events`, { type: "agent.message", content: "live" });
  await page.waitForFunction(() => window.messages.some((m) => m.kind === "event" && m.text === "live"), null, { timeout: 20_000 });
  check("the worker receives live events", true);
  const all = await page.evaluate(() => window.messages);
  check("the worker saw the stream open", all.some((m) => m.kind === "state" && m.state === "open"));
  check("no errors in the worker", !all.some((m) => m.kind === "error" || m.kind === "worker-error"), JSON.stringify(all.filter((m) => m.kind !== "event")));
  const ids = (await events()).map((e) => e.id);
  check("each event once", new Set(ids).size === ids.length && ids.length === 4, ids.join(","));
  done();
} catch (e) {
  failed(e);
} finally {
  await browser?.close();
  server.kill();
  rmSync(SITE, { recursive: true, force: true });
}
