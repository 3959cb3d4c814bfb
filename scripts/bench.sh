#!/usr/bin/env bash
# npm run bench: builds the package, then benchmarks it side by side with eventsource-parser,
# @microsoft/fetch-event-source and eventsource (and a TextDecoder + JSON.parse floor) in Node
# and in headless Chromium, plus the native Rust parser. Deterministic inputs (seeded).
# Results: bench/results/latest.json (and latest.txt, the printed table).
# Sizes and repetitions: BENCH_NODE_SCALE, BENCH_NODE_REPS, BENCH_CHROMIUM_SCALE,
# BENCH_CHROMIUM_REPS, BENCH_HEAP_EVENTS, BENCH_LATENCY_EVENTS, BENCH_TTFE_RUNS (see bench/run.mjs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
start=$(date +%s)
trap stop_servers EXIT

bash scripts/setup.sh
bash scripts/build.sh
if [ ! -x target/debug/threadtail-devserver ]; then cargo build -q -p threadtail-devserver; fi

node bench/www.mjs >/dev/null
start_server URL --token bench --scenario empty --static bench/.www --keepalive-ms 60000
node bench/run.mjs "$URL"
echo "bench: total wall time $(( $(date +%s) - start )) s (setup and build included)"
