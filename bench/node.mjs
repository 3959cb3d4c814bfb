// Throughput in Node: every adapter on every dataset. `node bench/node.mjs SCALE REPS` prints
// one JSON document {dataset: {adapter: figures}}.
import { datasets } from "./gen.mjs";
import { adapters, measure } from "./adapters.mjs";

globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, visibilityState: "visible", addEventListener() {}, removeEventListener() {} };
const scale = Number(process.argv[2] ?? 1);
const reps = Number(process.argv[3] ?? 5);
const only = process.argv[4];
const libs = {
  threadtail: await import("../pkg/node.js"),
  createParser: (await import("eventsource-parser")).createParser,
  fetchEventSource: (await import("@microsoft/fetch-event-source")).fetchEventSource,
  EventSource: (await import("eventsource")).EventSource,
};
const ad = adapters(libs);
const out = {};
for (const d of datasets(scale)) {
  out[d.name] = { events: d.count, bytes: d.bytes.length, chunks: d.chunks.length };
  for (const [name, a] of Object.entries(ad)) {
    if (only && !name.includes(only) && name !== "floor") continue;
    out[d.name][name] = await measure(a, d, reps, () => performance.now());
    process.stderr.write(`node ${d.name} ${name}: ${Math.round(out[d.name][name].events_s)} events/s\n`);
  }
}
console.log(JSON.stringify(out));
