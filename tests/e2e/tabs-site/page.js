// Follows a thread with threadtail/tabs and records what it sees for tests/e2e/tabs.e2e.mjs.
// Times are performance.now() (ms since this page's navigation started) and Date.now().
import { SharedThreadStream } from "./pkg/tabs.js";

window.got = [];
window.log = [];
window.start = (options) => {
  const stream = new SharedThreadStream(options);
  stream.onEvent((e, meta) => window.got.push({ id: e.id, cached: meta.cached, update: meta.update, t: performance.now() }));
  stream.onRoleChange((role) => window.log.push({ role, at: Date.now(), t: performance.now() }));
  stream.onStateChange((state) => window.log.push({ state, at: Date.now(), t: performance.now() }));
  stream.onWarning((w) => window.log.push({ warning: w.kind, message: w.message }));
  stream.onError((e) => window.log.push({ error: e.kind, message: e.message }));
  window.stream = stream;
  return true;
};
window.worker = (options) => {
  window.workerGot = [];
  const w = new Worker("./worker.js", { type: "module" });
  w.onmessage = ({ data }) => window.workerGot.push(data);
  w.postMessage(options);
};
if (location.hash.length > 1) window.start(JSON.parse(decodeURIComponent(location.hash.slice(1))));
window.ready = true;
