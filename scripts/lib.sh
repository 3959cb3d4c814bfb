# Shared helpers for the scripts: PATH, scratch dirs, starting and stopping the reference server.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
SERVER_PIDS=()

# start_server VAR [devserver args...]: starts target/debug/threadtail-devserver on a free
# loopback port and sets VAR to its base URL (http://127.0.0.1:PORT).
start_server() {
  local var=$1; shift
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/threadtail-server.XXXXXX")
  "$ROOT/target/debug/threadtail-devserver" --addr 127.0.0.1:0 "$@" >"$log" 2>&1 &
  SERVER_PIDS+=($!)
  local url="" i
  for i in $(seq 1 200); do
    url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$log" | head -n1)
    [ -n "$url" ] && break
    if ! kill -0 "${SERVER_PIDS[-1]}" 2>/dev/null; then cat "$log" >&2; return 1; fi
    sleep 0.05
  done
  if [ -z "$url" ]; then echo "the reference server did not start:" >&2; cat "$log" >&2; return 1; fi
  printf -v "$var" '%s' "$url"
}

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SERVER_PIDS=()
}
