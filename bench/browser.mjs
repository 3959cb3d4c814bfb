// The Chromium side of the benchmarks: throughput, latency, heap and time to first event,
// driven by bench/chromium.mjs through window.bench.
import { datasets, TYPES } from "/gen.mjs";
import { adapters, throughput } from "/adapters.mjs";

const params = new URLSearchParams(location.search);
const now = () => performance.now();
// "threadtail ThreadStream (bundled)" and "(bundled, preload)": the entry as one file built by
// esbuild (bench/www.mjs), as an app ships it; the adapter is the name before the parentheses.
const variantOf = (name) => /^(.*?)(?: \((.*)\))?$/.exec(name);

async function loadLibs(which) {
  const libs = {};
  const want = (n) => !which || which.startsWith(n);
  const bundled = which !== undefined && variantOf(which)[2]?.startsWith("bundled");
  if (want("threadtail")) libs.threadtail = await import(bundled ? "threadtail/bundled" : "threadtail");
  if (want("eventsource-parser")) libs.createParser = (await import("eventsource-parser")).createParser;
  if (want("@microsoft")) libs.fetchEventSource = (await import("@microsoft/fetch-event-source")).fetchEventSource;
  if (want("eventsource")) libs.EventSource = (await import("eventsource")).EventSource;
  return libs;
}

// Time to first event: ?ttfe=<adapter>; the clock is the page's (navigation start = 0).
if (params.has("ttfe")) {
  const name = params.get("ttfe");
  const libs = await loadLibs(name === "native EventSource" ? "none" : name);
  const frame = 'id: evt_00000000000000000000000000000001\nevent: session.thread_status_terminated\ndata: {"type":"session.thread_status_terminated"}\n\n';
  const n = await adapters(libs)[variantOf(name)[1]].run({ chunks: [new TextEncoder().encode(frame)], count: 1 });
  window.ttfeResult = { name, events: n, ms: now() };
}

const server = () => ({ base: location.origin, sid: params.get("sid"), tid: params.get("tid") });

/** One subscriber on the live thread stream (the server serves the page: same origin). */
async function subscribe(mode, onEvent) {
  const { base, sid, tid } = server();
  const url = `${base}/v1/sessions/${sid}/threads/${tid}/stream`;
  if (mode === "native EventSource") {
    // No token in the page: the driver adds the Authorization header to every request.
    const es = new EventSource(url);
    const on = (ev) => onEvent(JSON.parse(ev.data));
    for (const t of [...TYPES, "agent.message"]) es.addEventListener(t, on);
    await new Promise((r) => { es.onopen = r; });
    return () => es.close();
  }
  if (mode === "threadtail ThreadStream") {
    const { ThreadStream } = await import("threadtail");
    const s = new ThreadStream({ baseUrl: base + "/v1", sessionId: sid, threadId: tid, token: "bench" });
    await new Promise((r) => s.onStateChange((st) => { if (st === "open") r(); }));
    s.onEvent((e) => onEvent(e));
    return () => s.close();
  }
  if (mode === "eventsource-parser + JSON.parse") {
    const { createParser } = await import("eventsource-parser");
    const ac = new AbortController();
    const res = await fetch(url, { headers: { authorization: "Bearer bench" }, signal: ac.signal });
    const p = createParser({ onEvent: (e) => onEvent(JSON.parse(e.data)) });
    (async () => {
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      try { for (;;) { const { done, value } = await reader.read(); if (done) break; p.feed(dec.decode(value, { stream: true })); } } catch {}
    })();
    return () => ac.abort();
  }
  throw new Error("unknown mode " + mode);
}

window.bench = {
  async throughput(scale, reps, only) {
    const libs = await loadLibs();
    return throughput(adapters(libs), datasets(scale), reps, only, now);
  },

  /** Server write -> callback: POST one event (carrying t0) and wait for the callback. */
  async latency(mode, count, size) {
    const { base, sid, tid } = server();
    let waiting = null;
    const close = await subscribe(mode, (e) => { if (e.t0 !== undefined && waiting) waiting(now() - e.t0); });
    const pad = "調査結果をまとめました。".repeat(Math.max(1, Math.round(size / 36)));
    const lat = [];
    for (let i = 0; i < count; i++) {
      const got = new Promise((r) => { waiting = r; });
      const t0 = now();
      fetch(`${base}/_control/sessions/${sid}/threads/${tid}/events`, {
        method: "POST", body: JSON.stringify({ type: "agent.message", t0, content: [{ type: "text", text: pad }] }),
      });
      lat.push(await got);
      await new Promise((r) => setTimeout(r, 3));
    }
    close();
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
    return { count, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1] };
  },

  /** JS heap (performance.memory, after gc) around 1,000,000 typed events. */
  async heap(name, total) {
    const libs = await loadLibs(name);
    const { makeStream, idOf } = await import("/gen.mjs");
    const tpl = makeStream({ seed: 9, count: 1000, min: 250, max: 550 });
    const frames = new TextDecoder().decode(tpl.bytes).split("\n\n").filter(Boolean).map((f) => f.split("evt_"));
    const enc = new TextEncoder();
    const warm = Math.min(100_000, Math.floor(total / 10));
    let made = 0, before = null;
    const snap = () => { window.gc(); window.gc(); return performance.memory.usedJSHeapSize; };
    function* chunks() {
      while (made < total) {
        if (made >= warm && before === null) before = snap();
        let s = "";
        for (let k = 0; k < 64 && made < total; k++) {
          made++;
          const f = frames[made % 999];
          const id = idOf(made);
          let text = "id: " + id + f[1].slice(32) + id + f[2].slice(32);
          if (made === total) text = `id: ${id}\nevent: session.thread_status_terminated\ndata: {"id":"${id}","type":"session.thread_status_terminated"}`;
          s += text + "\n\n";
        }
        yield enc.encode(s);
      }
    }
    const t0 = now();
    const n = await adapters(libs)[name].run({ chunks: { [Symbol.iterator]: chunks }, count: total });
    const seconds = (now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 50));
    const after = snap();
    return { name, events: n, warm, seconds, before, after, growth: after - before };
  },
};
window.benchReady = true;
