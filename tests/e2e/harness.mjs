// What the browser end-to-end tests share: Debian's headless Chromium launched as this machine
// needs it, a copy of a test site with pkg/ in it, and the reference server started on a free
// port (its URL read from its first line).
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVER_BIN = join(ROOT, "target/debug/threadtail-devserver");

/** Stops with a clear message when the build has not made what a test needs. */
export function requireBuilt(paths) {
  for (const need of paths) {
    if (!existsSync(join(ROOT, need))) throw new Error(`${need} is missing: npm test builds it first`);
  }
}

/** A fresh copy of `source` (relative to the repository) at `site`, with pkg/ inside. */
export function prepareSite(source, site) {
  rmSync(site, { recursive: true, force: true });
  mkdirSync(site, { recursive: true });
  cpSync(join(ROOT, source), site, { recursive: true });
  cpSync(join(ROOT, "pkg"), join(site, "pkg"), { recursive: true });
}

/** Starts the reference server with `args` (plus a free loopback port): `{ base, process }`. */
export async function startDevserver(args, { timeoutMs = 10_000 } = {}) {
  const child = spawn(SERVER_BIN, ["--addr", "127.0.0.1:0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const base = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error("the reference server did not start")), timeoutMs);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^listening on (http:\/\/\S+)/m.exec(out);
      if (m) { clearTimeout(t); ok(m[1]); }
    });
  });
  return { base, process: child };
}

/** Debian's Chromium, headless; as root it needs --no-sandbox, and the rest keeps it off the network. */
export function launchChromium(options = {}) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--no-first-run", "--disable-sync"],
    ...options,
  });
}

/**
 * The checks of one test file: `check(name, ok, detail)` prints `ok N - name` or throws a
 * FAILED error; `done()` and `failed(error)` print the last line npm test counts.
 */
export function checklist() {
  let passed = 0;
  return {
    check(name, ok, detail = "") {
      if (!ok) throw new Error(`FAILED: ${name}${detail ? ` (${detail})` : ""}`);
      passed += 1;
      console.log(`ok ${passed} - ${name}`);
    },
    done() {
      console.log(`checks: ${passed} passed`);
    },
    failed(error) {
      console.log(error.message);
      console.log(`checks: ${passed} passed, 1 failed`);
      process.exitCode = 1;
    },
  };
}
