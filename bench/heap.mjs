// Heap growth over 1,000,000 events for one library, in a fresh Node started with --expose-gc:
//   node --expose-gc bench/heap.mjs "<adapter>" [events]
// Prints one JSON line: memory after a warm-up of 100,000 events and after all of them.
import { makeStream, idOf } from "./gen.mjs";
import { adapters } from "./adapters.mjs";

const name = process.argv[2];
const total = Number(process.argv[3] ?? 1_000_000);
const warm = Math.min(100_000, Math.floor(total / 10));
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, visibilityState: "visible", addEventListener() {}, removeEventListener() {} };
const libs = { threadtail: await import("../pkg/node.js") };
libs.createParser = (await import("eventsource-parser")).createParser;
libs.fetchEventSource = (await import("@microsoft/fetch-event-source")).fetchEventSource;
libs.EventSource = (await import("eventsource")).EventSource;

// 1,000 templates of ~250-550 byte events; ids are rewritten so that every event is new.
const tpl = makeStream({ seed: 9, count: 1000, min: 250, max: 550 });
const frames = new TextDecoder().decode(tpl.bytes).split("\n\n").filter(Boolean).map((f) => f.split(idOf(0).slice(0, 4)));
const PER_CHUNK = 64;
const enc = new TextEncoder();
let made = 0;
let before = null;
let after = null;
const snap = () => { globalThis.gc(); globalThis.gc(); const m = process.memoryUsage(); return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss }; };
function* chunks() {
  while (made < total) {
    if (made >= warm && !before) before = snap();
    let s = "";
    for (let k = 0; k < PER_CHUNK && made < total; k++) {
      made++;
      const f = frames[made % 999];
      const last = made === total;
      const id = idOf(made);
      // f = ["", "<hex>\nevent: T\ndata: {\"id\":\"", "<hex>\",...}"]: replace both ids.
      let text = "id: " + id + f[1].slice(32) + id + f[2].slice(32);
      if (last) text = `id: ${id}\nevent: session.thread_status_terminated\ndata: {"id":"${id}","type":"session.thread_status_terminated"}`;
      s += text + "\n\n";
    }
    yield enc.encode(s);
  }
}
const a = adapters(libs)[name];
const t0 = performance.now();
const n = await a.run({ chunks: { [Symbol.iterator]: chunks }, count: total });
const secs = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 50));
after = snap();
const d = (k) => after[k] - before[k];
console.log(JSON.stringify({ name, events: n, warm, seconds: secs, before, after,
  growth: { heapUsed: d("heapUsed"), external: d("external"), arrayBuffers: d("arrayBuffers"), rss: d("rss") } }));
