// Throughput in Node: every adapter on every dataset. `node bench/node.mjs SCALE REPS` prints
// one JSON document {dataset: {adapter: figures}}.
import { datasets } from "./gen.mjs";
import { adapters, throughput } from "./adapters.mjs";

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
const out = await throughput(adapters(libs), datasets(scale), reps, only, () => performance.now(),
  (set, name, r) => process.stderr.write(`node ${set} ${name}: ${Math.round(r.events_s)} events/s\n`));
console.log(JSON.stringify(out));
