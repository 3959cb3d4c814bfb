#!/usr/bin/env bash
# npm run demo: builds what is missing, starts the reference server with its live `demo`
# scenario, serves the thread viewer (www/ + the built package) and prints the URL to open.
# Runs until Ctrl-C. PORT=8080 by default; a busy port falls back to a free one.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# DEMO_SKIP_BUILD=1 reuses pkg/ and the server binary as they are (when they exist).
if [ "${DEMO_SKIP_BUILD:-}" = 1 ] && [ -f pkg/index.js ] && [ -x target/debug/threadtail-devserver ]; then
  echo "demo: DEMO_SKIP_BUILD=1: using the existing pkg/ and server" >&2
else
  bash scripts/setup.sh
  bash scripts/build.sh
  cargo build -p threadtail-devserver --quiet
fi

port=${PORT:-8080}
site="$ROOT/.tmp/demo-site-$$"
log=$(mktemp "${TMPDIR:-/tmp}/threadtail-demo.XXXXXX")
server_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
  rm -rf "$site"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# The served folder: the page and the built package side by side (one per run, removed at exit).
rm -rf "$site" && mkdir -p "$site"
cp -R www/. "$site/"
cp -R pkg "$site/pkg"

start() { # start ADDR: starts the server, waits for its first line; fails if it exits
  : >"$log"
  "$ROOT/target/debug/threadtail-devserver" --addr "$1" --scenario demo --static "$site" \
    --token devtoken >"$log" 2>&1 &
  server_pid=$!
  local i
  for i in $(seq 1 200); do
    url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$log" | head -n1)
    [ -n "$url" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { wait "$server_pid" 2>/dev/null || true; server_pid=""; return 1; }
    sleep 0.05
  done
  return 1
}

url=""
if ! start "127.0.0.1:$port"; then
  echo "demo: port $port is busy ($(tail -n1 "$log")); using a free port instead" >&2
  start "127.0.0.1:0" || { cat "$log" >&2; exit 1; }
fi

cat <<MSG

  threadtail demo: a live multi-agent session (token: devtoken)

    open $url/ in a browser

  Press Ctrl-C to stop.

MSG
# Show the server's own messages (after its first line) while it runs.
tail -n +2 -f "$log" --pid "$server_pid" >&2 &
tail_pid=$!
wait "$server_pid" || true
kill "$tail_pid" 2>/dev/null || true
