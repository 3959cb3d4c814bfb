// The benchmark runner behind `npm run bench` (scripts/bench.sh starts the reference server and
// passes its URL). Runs every part, writes bench/results/latest.json and prints the table:
// each figure with its ratio to the best peer (same kind: framing or typed delivery), to the
// floor (TextDecoder + JSON.parse of each event's data bytes, no framing) and to JSON.parse
// of the same data strings.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sizes } from "./size.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = (k, d) => Number(process.env[k] ?? d);
const cfg = {
  node_scale: env("BENCH_NODE_SCALE", 1), node_reps: env("BENCH_NODE_REPS", 5),
  chromium_scale: env("BENCH_CHROMIUM_SCALE", 0.5), chromium_reps: env("BENCH_CHROMIUM_REPS", 3),
  heap_events: env("BENCH_HEAP_EVENTS", 1_000_000), latency_events: env("BENCH_LATENCY_EVENTS", 1000),
  ttfe_runs: env("BENCH_TTFE_RUNS", 5),
};
const server = process.argv[2];
const log = (s) => process.stderr.write(`bench: ${s}\n`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "inherit"], ...opts });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const started = Date.now();
const results = { date: new Date().toISOString(), config: cfg, node: process.version };

log("native parser (cargo run --profile bench --example parse_bench)");
results.native = JSON.parse(run("cargo", ["run", "-q", "--profile", "bench", "--example", "parse_bench", "--", "--json"]));

log("sizes");
results.size = await sizes();

log(`Node throughput (scale ${cfg.node_scale}, ${cfg.node_reps} reps)`);
results.node_throughput = JSON.parse(run("node", ["bench/node.mjs", String(cfg.node_scale), String(cfg.node_reps)]));

log("Node: the session model's cost per event (bench/model.mjs)");
results.node_model = JSON.parse(run("node", ["bench/model.mjs", String(cfg.node_scale), String(cfg.node_reps)]));

log(`Node heap over ${cfg.heap_events} events`);
results.node_heap = {};
for (const name of ["threadtail ThreadStream", "threadtail SseParser", "eventsource-parser + JSON.parse"]) {
  results.node_heap[name] = JSON.parse(run("node", ["--expose-gc", "bench/heap.mjs", name, String(cfg.heap_events)]));
}

log("Node time to first event");
results.node_ttfe = {};
for (const name of ["threadtail ThreadStream", "threadtail SseParser", "eventsource-parser + JSON.parse", "@microsoft/fetch-event-source", "eventsource"]) {
  const ms = [];
  for (let i = 0; i < cfg.ttfe_runs; i++) ms.push(JSON.parse(run("node", ["bench/ttfe.mjs", name])).ms);
  results.node_ttfe[name] = { ms: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
}

if (server) {
  log(`Chromium (scale ${cfg.chromium_scale}, ${cfg.chromium_reps} reps; latency, heap, time to first event)`);
  run("node", ["bench/www.mjs"]);
  results.chromium = JSON.parse(run("node", ["bench/chromium.mjs", server, String(cfg.chromium_scale),
    String(cfg.chromium_reps), String(cfg.heap_events), String(cfg.latency_events)]));
} else log("no server URL: Chromium skipped");

results.wall_seconds = (Date.now() - started) / 1000;
writeFileSync(root + "bench/results/latest.json", JSON.stringify(results, null, 1) + "\n");

// ---- the table ----
const KIND = {
  "JSON.parse": "baseline", floor: "floor", "threadtail SseParser": "framing", "eventsource-parser": "framing",
  "threadtail ThreadStream": "typed", "eventsource-parser + JSON.parse": "typed",
  "@microsoft/fetch-event-source": "typed", eventsource: "typed",
};
const PEER = (n) => !n.startsWith("threadtail") && n !== "floor" && n !== "JSON.parse";
const fmt = (x) => x >= 1e6 ? (x / 1e6).toFixed(2) + "M" : x >= 1e4 ? (x / 1e3).toFixed(0) + "k" : x >= 100 ? x.toFixed(0) : x.toFixed(1);
const ratio = (x) => (x === undefined || !isFinite(x) ? "-" : x.toFixed(2) + "x");
const pad = (s, n) => String(s).padEnd(n);
const lines = [];
const P = (s = "") => lines.push(s);

function throughputTable(title, t) {
  P(`## ${title}: events/s and MB/s, median [min-max]; ratios = events/s / best peer of the same kind, / floor, / JSON.parse`);
  P(pad("dataset", 11) + pad("library", 41) + pad("events/s", 22) + pad("MB/s", 20) + pad("vs best peer", 13) + pad("vs floor", 10) + "vs JSON.parse");
  for (const [ds, row] of Object.entries(t)) {
    const floor = row.floor?.events_s;
    const parse = row["JSON.parse"]?.events_s;
    for (const [name, r] of Object.entries(row)) {
      if (typeof r !== "object") continue;
      const kind = KIND[name];
      const peers = Object.entries(row).filter(([n, v]) => typeof v === "object" && PEER(n) && KIND[n] === kind);
      const best = peers.length ? Math.max(...peers.map(([, v]) => v.events_s)) : undefined;
      P(pad(ds, 11) + pad(name + (kind === "typed" ? " [typed]" : kind === "framing" ? " [framing]" : ""), 41)
        + pad(`${fmt(r.events_s)} [${fmt(r.events_s_min)}-${fmt(r.events_s_max)}]`, 22)
        + pad(`${fmt(r.mb_s)} [${fmt(r.mb_s_min)}-${fmt(r.mb_s_max)}]`, 20)
        + pad(kind === "floor" || kind === "baseline" ? "-" : ratio(r.events_s / best), 13) + pad(ratio(r.events_s / floor), 10)
        + ratio(r.events_s / parse));
    }
  }
  P();
}
throughputTable(`Node ${process.version}`, results.node_throughput);
if (results.chromium) throughputTable(`Chromium ${results.chromium.version}`, results.chromium.throughput);

P("## threadtail/model, Node: events/s median [min-max] through a ThreadStream, without and with a SessionModel attached (a subscriber reads every snapshot); the fold alone (model.push, a publication per 64 events)");
for (const [ds, row] of Object.entries(results.node_model)) {
  const plain = row.ThreadStream.events_s;
  for (const [name, r] of Object.entries(row)) {
    if (typeof r !== "object") continue;
    P(pad(ds, 11) + pad(name, 24) + pad(`${fmt(r.events_s)} [${fmt(r.events_s_min)}-${fmt(r.events_s_max)}]`, 22) + `${ratio(r.events_s / plain)} the ThreadStream alone`);
  }
}
P();

P("## Native parser (Rust, --profile bench): MB/s median [min-max], events/s");
for (const r of results.native) P(pad(r.case, 20) + pad(r.chunking, 18) + pad(`${fmt(r.mb_s)} [${fmt(r.mb_s_min)}-${fmt(r.mb_s_max)}]`, 20) + fmt(r.events_s));
P();

if (results.chromium) {
  P("## Latency, Chromium: POST of an event to the server -> callback, ms (loopback); ratio = p99 / native EventSource p99");
  const lat = results.chromium.latency;
  const nat = lat["native EventSource"];
  for (const [name, r] of Object.entries(lat))
    P(pad(name, 33) + `p50 ${r.p50.toFixed(2)}  p90 ${r.p90.toFixed(2)}  p99 ${r.p99.toFixed(2)}  max ${r.max.toFixed(2)}  (n=${r.count})  p99 vs native ${ratio(r.p99 / nat.p99)}  p50 vs native ${ratio(r.p50 / nat.p50)}`);
  P();
}

P(`## Heap growth over ${cfg.heap_events} events (after a warm-up of ${results.node_heap["threadtail ThreadStream"]?.warm} events, gc before both readings)`);
const kb = (b) => (b / 1024).toFixed(0) + " KB";
for (const [name, r] of Object.entries(results.node_heap))
  P(pad("Node " + name, 42) + `heapUsed ${kb(r.growth.heapUsed)}, external ${kb(r.growth.external)}, arrayBuffers ${kb(r.growth.arrayBuffers)}, rss ${kb(r.growth.rss)} (${(r.events / r.seconds / 1e3).toFixed(0)}k events/s incl. generation)`);
if (results.chromium) for (const [name, r] of Object.entries(results.chromium.heap))
  P(pad("Chromium " + name, 42) + `usedJSHeapSize ${kb(r.growth)} (${kb(r.before)} -> ${kb(r.after)})`);
P();

P("## Time to first event, module load + instantiation included, ms median [min-max]; ratio to the best peer");
for (const [envName, t] of [["Node", results.node_ttfe], ["Chromium", results.chromium?.ttfe]]) {
  if (!t) continue;
  const best = Math.min(...Object.entries(t).filter(([n]) => PEER(n)).map(([, v]) => v.ms));
  for (const [name, r] of Object.entries(t))
    P(pad(`${envName} ${name}`, 54) + pad(`${r.ms.toFixed(1)} [${r.min.toFixed(1)}-${r.max.toFixed(1)}]`, 22) + ratio(r.ms / best));
}
P();

P("## Shipped size, esbuild --minify + gzip -9, bytes");
const bestSize = Math.min(...Object.entries(results.size).filter(([n]) => PEER(n)).map(([, v]) => v.total_gzip));
for (const [name, s] of Object.entries(results.size))
  P(pad(name, 33) + pad(`${s.total_gzip}`, 8) + (s.wasm ? `(glue ${s.glue_min} min / ${s.glue_gzip} gz, wasm ${s.wasm} / ${s.wasm_gzip} gz) ` : `(${s.glue_min} min) `) + `vs smallest peer ${ratio(s.total_gzip / bestSize)}`);
if (results.size.threadtail.inline_gzip)
  P(pad("threadtail/inline", 33) + pad(`${results.size.threadtail.inline_gzip}`, 8) + `(${results.size.threadtail.inline_min} min, the wasm in base64) vs smallest peer ${ratio(results.size.threadtail.inline_gzip / bestSize)}`);
P();
P(`wall time of the measurements: ${results.wall_seconds.toFixed(0)} s; results in bench/results/latest.json`);
console.log(lines.join("\n"));
writeFileSync(root + "bench/results/latest.txt", lines.join("\n") + "\n");
