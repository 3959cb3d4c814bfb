#!/usr/bin/env bash
# npm test: every check, in order, stopping at the first failure, then a one-line summary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scratch="$ROOT/.tmp/test"
rm -rf "$scratch" && mkdir -p "$scratch"
# Each Chromium session leaves files in TMPDIR: keep them in a scratch folder removed at exit.
export TMPDIR="$scratch"
trap 'stop_servers; rm -rf "$scratch"' EXIT

passed=0; failed=0; steps=0
started=$SECONDS
log="$scratch/step.log"

# count_from_log: adds the test counts that cargo, wasm-bindgen-test and node printed.
count_from_log() {
  local counts
  counts=$(awk '
    match($0, /test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed/) {
      split(substr($0, RSTART, RLENGTH), w, " "); p += w[4]; f += w[6]
    }
    /^# pass [0-9]+/ { p += $3 }
    /^# fail [0-9]+/ { f += $3 }
    /^checks: [0-9]+ passed/ { p += $2 }
    END { print p + 0, f + 0 }' "$log")
  passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
}

step() {
  local name=$1; shift
  steps=$((steps + 1))
  printf '\n== %s\n' "$name"
  local t0=$SECONDS
  if "$@" 2>&1 | tee "$log"; then
    count_from_log
    printf -- '-- %s: ok (%ss)\n' "$name" $((SECONDS - t0))
  else
    count_from_log
    printf -- '-- %s: FAILED\n' "$name"
    printf '\nsummary: %d passed, %d failed\n' "$passed" "$((failed > 0 ? failed : 1))"
    exit 1
  fi
}

step "setup" bash scripts/setup.sh
step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy (native)" cargo clippy --workspace --all-targets --quiet -- -D warnings
step "cargo clippy (wasm32)" cargo clippy --lib --tests --target wasm32-unknown-unknown --quiet -- -D warnings
step "cargo test (native)" cargo test --workspace --quiet
step "build the npm package" bash scripts/build.sh
step "size budget: what a browser downloads, gzipped" node tests/size/budget.mjs

# The browser tests drive the server's /_control API from the wasm-bindgen-test page, which
# has its own origin: serve that page on a fixed address (wasm-bindgen-test-runner reads
# WASM_BINDGEN_TEST_ADDRESS) and allow exactly that origin on /_control (--control-origin).
test_page_port=${THREADTAIL_TEST_PAGE_PORT:-8797}
export WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$test_page_port"
if (: </dev/tcp/127.0.0.1/"$test_page_port") 2>/dev/null; then
  printf '\n127.0.0.1:%s (the browser tests page) is in use: stop what listens there, or set THREADTAIL_TEST_PAGE_PORT to a free port\n' "$test_page_port" >&2
  printf '\nsummary: %d passed, %d failed\n' "$passed" "$((failed > 0 ? failed : 1))"
  exit 1
fi
start_server SERVER_URL --scenario empty --keepalive-ms 1000 \
  --control-origin "http://$WASM_BINDGEN_TEST_ADDRESS"
export THREADTAIL_TEST_SERVER="$SERVER_URL"
export WASM_BINDGEN_TEST_TIMEOUT=180
step "wasm-bindgen-test in headless Chromium" \
  env CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome . --test browser
step "wasm-bindgen-test in headless Firefox" \
  wasm-pack test --headless --firefox . --test browser
step "JavaScript tests of the built package (Node)" node --test --test-concurrency=1 tests/js/
step "the package's entries in Node: require(), import, slim init() inputs and errors" node --test tests/bundlers/
step "TypeScript: usage compiles, mistakes do not, declarations match the runtime" node tests/ts/check.mjs
step "demo end to end in headless Chromium" node tests/e2e/demo.e2e.mjs
step "a Web Worker in headless Chromium" node tests/e2e/worker.e2e.mjs
step "the browser entry: resume point and EventSource close() in headless Chromium" node tests/e2e/browser-lifecycle.e2e.mjs
step "threadtail/tabs: one connection for three tabs, hand-over, reload from the cache, in headless Chromium" node tests/e2e/tabs.e2e.mjs
step "the packed package in real bundlers (Vite 7 dev, Vite 8 build, webpack, esbuild, Rollup) in headless Chromium" \
  node tests/bundlers/run.mjs
stop_servers

printf '\nnpm test: %d steps in %ss\n' "$steps" $((SECONDS - started))
printf 'summary: %d passed, %d failed\n' "$passed" "$failed"
