#!/usr/bin/env bash
# One idempotent setup for build, test and demo: installs only what is missing, says what it
# does, and is a quick no-op when everything is present. Everything comes from the Rust, Debian
# and npm package registries; nothing downloads a browser or a binary from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
# The CLI must equal the wasm-bindgen crate version in Cargo.lock (pinned with "=" in Cargo.toml).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf 'setup: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Components used by npm test (present in most toolchains; added if missing).
for comp in clippy rustfmt; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
    say "adding rustup component $comp"
    rustup component add "$comp"
  fi
done

cargo_tool() { # binary, crate, version, version-probe
  local bin=$1 crate=$2 version=$3
  if have "$bin" && "$bin" --version 2>/dev/null | grep -qF "$version"; then return; fi
  say "installing $crate $version with cargo (a few minutes, once)"
  cargo install "$crate" --version "$version" --locked --quiet \
    || cargo install "$crate" --version "$version" --quiet
}

if [ -z "$WASM_BINDGEN_VERSION" ]; then
  say "error: no wasm-bindgen in Cargo.lock"; exit 1
fi
cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
cargo_tool wasm-pack wasm-pack "$WASM_PACK_VERSION"

missing=()
have chromium || missing+=(chromium)
have chromedriver || missing+=(chromium-driver)
have firefox-esr || have firefox || missing+=(firefox-esr)
# Fonts for the demo's Japanese text and emoji in screenshots (tests pass without them).
for font in fonts-ipafont-gothic fonts-noto-color-emoji; do
  dpkg -s "$font" >/dev/null 2>&1 || missing+=("$font")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cargo_tool geckodriver geckodriver "$GECKODRIVER_VERSION"

# npm packages, exactly as locked; skipped when node_modules matches the lock file.
stamp=node_modules/.threadtail-lock
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# Debian's wasm-opt (binaryen 108) cannot read current rustc output; npm's binaryen must win.
if [ -x /usr/bin/wasm-opt ]; then
  say "note: /usr/bin/wasm-opt is too old; npm's binaryen is put first on PATH by the scripts"
fi
