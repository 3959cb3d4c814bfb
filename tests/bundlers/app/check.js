// What every bundler test page checks, with the package module that its bundler built in:
// an event parses (SseParser), and a ThreadStream receives the thread's first event from the
// reference server. Results go to window.__result for tests/bundlers/run.mjs to read.
export async function run(tt, init) {
  const q = new URLSearchParams(location.search);
  const result = (window.__result = window.__result || {});
  try {
    if (init) await init();
    const events = new tt.SseParser().push('id: 7\nevent: agent.message\ndata: {"a":1}\n\n');
    result.parsed = events.length === 1 && events[0].id === "7" && events[0].type === "agent.message";
    result.errorClass = typeof tt.ThreadtailError === "function";
    const stream = new tt.ThreadStream({ baseUrl: q.get("base"), sessionId: q.get("session"), threadId: q.get("thread"), token: q.get("token") });
    stream.onError((e) => { result.error = `${e.kind}: ${e.message}`; });
    stream.onEvent((e) => {
      result.event = e.content;
      stream.close();
    });
  } catch (e) {
    result.error = String((e && e.message) || e);
  }
}

// Starts a worker and sends it the server's address at once: a worker that loses its first
// message never answers.
export function runWorker(worker) {
  const q = new URLSearchParams(location.search);
  const result = (window.__result = window.__result || {});
  worker.onmessage = ({ data }) => { result.worker = data; };
  worker.onerror = (e) => { result.workerError = e.message || "worker error"; };
  worker.postMessage(Object.fromEntries(q));
}
