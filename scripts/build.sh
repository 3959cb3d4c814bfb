#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (release, --target web, wasm-opt from npm's
# binaryen), short names for the wasm's hashed import and export names (shorten-imports.mjs),
# then entry points for browsers/bundlers/workers and Node, and the type definitions.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

wasm-pack build --release --target web --out-dir pkg --out-name threadtail --no-pack . >&2
node scripts/shorten-imports.mjs pkg/threadtail_bg.wasm pkg/threadtail.js
node scripts/package.mjs
