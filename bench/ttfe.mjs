// Time to first event in a fresh Node process, module loading and instantiation included:
//   node bench/ttfe.mjs "<adapter>"  -> one JSON line {name, ms}
// The clock starts before the library's import; the stream is one prepared event.
const t0 = performance.now();
const name = process.argv[2];
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, visibilityState: "visible", addEventListener() {}, removeEventListener() {} };
const libs = {};
if (name.startsWith("threadtail")) libs.threadtail = await import("../pkg/node.js");
if (name.startsWith("eventsource-parser")) libs.createParser = (await import("eventsource-parser")).createParser;
if (name.startsWith("@microsoft")) libs.fetchEventSource = (await import("@microsoft/fetch-event-source")).fetchEventSource;
if (name === "eventsource") libs.EventSource = (await import("eventsource")).EventSource;
const { adapters } = await import("./adapters.mjs");
const frame = 'id: evt_00000000000000000000000000000001\nevent: session.thread_status_terminated\ndata: {"type":"session.thread_status_terminated"}\n\n';
const d = { chunks: [new TextEncoder().encode(frame)], count: 1 };
const n = await adapters(libs)[name].run(d);
console.log(JSON.stringify({ name, events: n, ms: performance.now() - t0 }));
