// The cost of threadtail/model per event, in Node: the same ThreadStream (bench/gen.mjs
// datasets, served by a fetch that yields the prepared chunks) delivering to a plain listener,
// and to a SessionModel attached to it with a subscriber that reads every snapshot (what a
// renderer does), timed runs interleaved. Also the fold alone (model.push of parsed events).
// `node bench/model.mjs SCALE REPS` prints one JSON document {dataset: {variant: figures}}.
import { datasets } from "./gen.mjs";
import { responseOf, consume } from "./adapters.mjs";

globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, visibilityState: "visible", addEventListener() {}, removeEventListener() {} };
const scale = Number(process.argv[2] ?? 1);
const reps = Number(process.argv[3] ?? 5);
const threadtail = await import("../pkg/node.js");
const { createSessionModel } = await import("../pkg/model.js");

const open = (d) => new threadtail.ThreadStream({
  baseUrl: "http://bench.invalid", sessionId: "sess_0000000000000000000000000001",
  threadId: "sthr_00000000000000000000000000000002", token: "t", fetch: async () => responseOf(d.chunks),
});
const ended = (s, resolve, reject, n) => {
  s.onError((e) => { if (e.kind !== "decode") reject(e); });
  s.onStateChange((st) => { if (st === "closed") resolve(n()); });
};

const variants = {
  "ThreadStream": (d) => new Promise((resolve, reject) => {
    let n = 0;
    const s = open(d);
    s.onEvent((e) => { consume(e.type); n++; });
    ended(s, resolve, reject, () => n);
  }),
  "ThreadStream + model": (d) => new Promise((resolve, reject) => {
    const s = open(d);
    const model = createSessionModel();
    model.attach(s);
    model.subscribe(() => consume(model.getSnapshot()));
    ended(s, resolve, reject, () => { model.flush(); return model.getSnapshot().counts.events; });
  }),
  // The fold on its own: parsed events pushed in batches of 64, one publication per batch.
  "model.push alone": async (d) => {
    d.parsed ??= d.datas.map((x) => JSON.parse(x));
    const model = createSessionModel();
    model.subscribe(() => consume(model.getSnapshot()));
    for (let i = 0; i < d.parsed.length; i++) {
      model.push(d.parsed[i]);
      if (i % 64 === 63) model.flush();
    }
    model.flush();
    return model.getSnapshot().counts.events;
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = {};
for (const d of datasets(scale).filter((x) => x.name.endsWith("LF") && !x.name.includes("CRLF"))) {
  out[d.name] = { events: d.count };
  const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const [name, run] of Object.entries(variants)) {
    const n = await run(d); // warm-up
    if (n !== d.count) throw new Error(`${name}: ${n} of ${d.count} events`);
  }
  for (let i = 0; i < reps; i++) {
    for (const [name, run] of Object.entries(variants)) {
      const t0 = performance.now();
      await run(d);
      runs[name].push(d.count / ((performance.now() - t0) / 1000));
    }
  }
  for (const [name, eps] of Object.entries(runs)) {
    out[d.name][name] = { events_s: median(eps), events_s_min: Math.min(...eps), events_s_max: Math.max(...eps), reps };
    process.stderr.write(`model ${d.name} ${name}: ${Math.round(median(eps))} events/s\n`);
  }
  d.chunks = d.datas = d.parsed = null;
}
console.log(JSON.stringify(out));
