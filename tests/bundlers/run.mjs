// The built package in real bundlers, as a registry user gets it: `npm pack` of pkg/, installed
// with npm into a fresh app per tool (under .tmp/bundlers/), built or served with each tool's
// default configuration (no config file), loaded in Debian's headless Chromium. Each page parses
// an event and receives one from the reference server (its worker too, where it has one); then
// the wasm is taken away and the same page must fail with the error that names the fix.
// The tools come from the root devDependencies (found by walking up from .tmp/bundlers/).
// Needs pkg/ and target/debug/threadtail-devserver. Last line: `checks: N passed`.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { startServer, TOKEN } from "../js/helpers/server.mjs";
import { launchChromium } from "../e2e/harness.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const HERE = join(ROOT, "tests/bundlers");
const WORK = join(ROOT, ".tmp/bundlers");
const started = Date.now();
let passed = 0;
const check = (name, ok, detail = "") => {
  if (!ok) throw new Error(`FAILED: ${name}${detail ? ` (${detail})` : ""}`);
  passed += 1;
  console.log(`ok ${passed} - ${name}`);
};
const seconds = (t0) => ((Date.now() - t0) / 1000).toFixed(1);

// Each app: the entry its page imports (and its worker's, if any), how it is built, and the
// README recipe it follows. `init` is the slim entry's init() argument.
const APPS = [
  { name: "vite7-dev", tool: "Vite 7 dev server", entry: "threadtail", worker: "threadtail", build: viteDev },
  { name: "vite-build", tool: "Vite 8 build", entry: "threadtail", worker: "threadtail/inline", build: viteBuild },
  { name: "webpack", tool: "webpack 5", entry: "threadtail", worker: "threadtail", build: webpackBuild },
  { name: "esbuild-iife", tool: "esbuild (iife)", entry: "threadtail/inline", build: esbuildBuild, format: "iife" },
  { name: "esbuild-slim", tool: "esbuild (esm) + slim", entry: "threadtail/slim", init: '"./threadtail_bg.wasm"', build: esbuildBuild, format: "esm", copyWasm: true },
  { name: "rollup", tool: "Rollup + node-resolve", entry: "threadtail/inline", build: rollupBuild },
];

for (const need of ["pkg/index.js", "pkg/package.json", "target/debug/threadtail-devserver"]) {
  if (!existsSync(join(ROOT, need))) throw new Error(`${need} is missing: npm test builds it first`);
}

// ---- the apps ---------------------------------------------------------------------------------
function writeApp(app) {
  const dir = join(WORK, app.name);
  mkdirSync(dir, { recursive: true });
  for (const f of ["check.js", "worker-check.js", "index.html"]) cpSync(join(HERE, "app", f), join(dir, f));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `app-${app.name}`, private: true, type: "module" }, null, 2));
  const workerType = app.build === webpackBuild ? "" : ', { type: "module" }';
  writeFileSync(join(dir, "main.js"), [
    `import * as tt from ${JSON.stringify(app.entry)};`,
    `import { run, runWorker } from "./check.js";`,
    `run(tt${app.init ? `, () => tt.init(${app.init})` : ""});`,
    app.worker ? `runWorker(new Worker(new URL("./worker.js", import.meta.url)${workerType}));` : "",
  ].join("\n") + "\n");
  if (app.worker) {
    writeFileSync(join(dir, "worker.js"),
      `import * as tt from ${JSON.stringify(app.worker)};\nimport { serve } from "./worker-check.js";\nserve(tt);\n`);
  }
  return dir;
}

// A page for the bundles that are plain script files.
function writePage(dist, script, module) {
  writeFileSync(join(dist, "index.html"),
    `<!doctype html>\n<meta charset="utf-8">\n<script${module ? ' type="module"' : ""} src="./${script}"></script>\n`);
}

async function viteDev(app, dir) {
  const { createServer: createVite } = await import(pathToFileURL(join(ROOT, "node_modules/vite7/dist/node/index.js")).href);
  const server = await createVite({ root: dir, configFile: false, logLevel: "warn", server: { host: "127.0.0.1", port: 0 } });
  await server.listen();
  app.close = () => server.close();
  app.url = server.resolvedUrls.local[0];
  // Taking the wasm away: the file the dev server would serve from the package's folder.
  const wasm = join(dir, "node_modules/threadtail/threadtail_bg.wasm");
  app.breakWasm = () => renameSync(wasm, wasm + ".gone");
  app.restoreWasm = () => renameSync(wasm + ".gone", wasm);
}

async function viteBuild(app, dir) {
  const { build } = await import("vite");
  await build({ root: dir, configFile: false, logLevel: "warn" });
  app.dist = join(dir, "dist");
}

async function webpackBuild(app, dir) {
  const { default: webpack } = await import("webpack");
  const dist = join(dir, "dist");
  const stats = await new Promise((ok, fail) =>
    webpack({ mode: "production", context: dir, entry: "./main.js", output: { path: dist } }, (e, s) => (e ? fail(e) : ok(s))));
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  if (stats.hasErrors()) throw new Error(info.errors.map((e) => e.message).join("\n"));
  app.warnings = info.warnings.map((w) => w.message.split("\n")[0]);
  writePage(dist, "main.js", false);
  app.dist = dist;
}

async function esbuildBuild(app, dir) {
  const dist = join(dir, "dist");
  const result = await esbuild.build({
    absWorkingDir: dir, entryPoints: ["main.js"], bundle: true, format: app.format, outfile: join(dist, "main.js"), logLevel: "silent",
  });
  app.warnings = result.warnings.map((w) => w.text);
  check(`${app.tool}: esbuild reports no warnings`, result.warnings.length === 0, app.warnings.join("; "));
  if (app.copyWasm) cpSync(join(dir, "node_modules/threadtail/threadtail_bg.wasm"), join(dist, "threadtail_bg.wasm"));
  writePage(dist, "main.js", app.format === "esm");
  app.dist = dist;
}

async function rollupBuild(app, dir) {
  const { rollup } = await import("rollup");
  const { nodeResolve } = await import("@rollup/plugin-node-resolve");
  const warnings = [];
  const bundle = await rollup({ input: join(dir, "main.js"), plugins: [nodeResolve({ rootDir: dir })], onwarn: (w) => warnings.push(w.message) });
  const dist = join(dir, "dist");
  await bundle.write({ file: join(dist, "main.js"), format: "es" });
  await bundle.close();
  app.warnings = warnings;
  writePage(dist, "main.js", true);
  app.dist = dist;
}

// ---- sizes: the emitted JavaScript minified (esbuild) and gzipped, the .wasm gzipped --------------
async function sizes(dist) {
  const files = [];
  const walk = (d) => readdirSync(d).forEach((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : files.push(join(d, e))));
  walk(dist);
  let js = 0;
  let wasm = 0;
  for (const f of files) {
    const bytes = readFileSync(f);
    if (extname(f) === ".js") js += gzipSync((await esbuild.transform(bytes.toString(), { minify: true })).code, { level: 9 }).length;
    if (extname(f) === ".wasm") wasm += gzipSync(bytes, { level: 9 }).length;
  }
  return { js, wasm };
}

// ---- a static server per built app, its dist/ at the root as a site would serve it (404 for a
// missing file, .wasm as application/wasm) ----------------------------------------------------------
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json" };
const statics = [];
async function serveStatic(dist) {
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const path = join(dist, pathname.endsWith("/") ? pathname + "index.html" : pathname);
    if (!path.startsWith(dist) || !existsSync(path) || statSync(path).isDirectory()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(path)] || "application/octet-stream" }).end(readFileSync(path));
  });
  statics.push(server);
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${server.address().port}/`;
}

// ---- the run ----------------------------------------------------------------------------------
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
let server;
let browser;
try {
  // The tarball a registry user would get, installed with npm into each app.
  let t0 = Date.now();
  const tarball = join(WORK, execFileSync("npm", ["pack", join(ROOT, "pkg"), "--pack-destination", WORK, "--silent"], { encoding: "utf8" }).trim().split("\n").pop());
  const dirs = APPS.map(writeApp);
  await Promise.all(dirs.map((dir) => new Promise((ok, fail) => {
    const npm = spawn("npm", ["install", "--no-save", "--offline", "--no-audit", "--no-fund", "--loglevel=error", tarball], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
    npm.on("exit", (code) => (code === 0 ? ok() : fail(new Error(`npm install in ${dir}: exit ${code}`))));
  })));
  console.log(`# packed and installed in ${APPS.length} apps in ${seconds(t0)} s`);

  server = await startServer(["--keepalive-ms", "500"]);
  const { sessionId: session, threadId: thread } = await server.thread("sess_bundlers");
  await server.event(session, thread, { type: "agent.message", content: "from the server" });
  const query = "?" + new URLSearchParams({ base: server.base, session, thread, token: TOKEN });

  browser = await launchChromium();

  // Loads a page; resolves with its result once it has received its event(s), failed, or timed out.
  const visit = async (url, wantWorker, timeout) => {
    const page = await browser.newPage();
    const errors = [];
    let failed;
    const pageFailed = new Promise((ok) => { failed = ok; });
    page.on("pageerror", (e) => { errors.push(e.message); failed(); });
    await page.goto(url + (wantWorker ? "&worker=1" : ""));
    const done = () => {
      const r = window.__result || {};
      const wantWorker = new URLSearchParams(location.search).has("worker");
      return r.error || r.workerError || (r.event && (!wantWorker || (r.worker && (r.worker.event || r.worker.error))));
    };
    await Promise.race([page.waitForFunction(done, null, { timeout }).catch(() => {}), pageFailed]);
    const result = await page.evaluate(() => window.__result || {}).catch(() => ({}));
    await page.close();
    return { result, errors };
  };

  const rows = [];
  for (const app of APPS) {
    const dir = join(WORK, app.name);
    t0 = Date.now();
    await app.build(app, dir);
    check(`${app.tool}: builds in ${seconds(t0)} s (${app.entry}${app.worker ? `, worker ${app.worker}` : ""})${app.warnings?.length ? `; warnings: ${app.warnings.join(" | ")}` : ""}`, true);
    const url = (app.url ?? await serveStatic(app.dist)) + query;
    const { result, errors } = await visit(url, Boolean(app.worker), 20_000);
    const detail = JSON.stringify({ result, errors });
    check(`${app.tool}: the page parses an event`, result.parsed === true && result.errorClass === true, detail);
    check(`${app.tool}: the page receives an event from the server`, result.event === "from the server" && !result.error, detail);
    if (app.worker) {
      check(`${app.tool}: the worker (${app.worker}, static import) answers its first message with an event`,
        result.worker?.parsed === true && result.worker?.event === "from the server", detail);
    }
    const size = app.dist ? await sizes(app.dist) : null;

    // Negative: without the wasm the page must fail, with the error that names the fix.
    if (app.entry !== "threadtail/inline") {
      if (app.breakWasm) app.breakWasm();
      else {
        const gone = [];
        const walk = (d) => readdirSync(d).forEach((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : e.endsWith(".wasm") && gone.push(join(d, e))));
        walk(app.dist);
        if (gone.length === 0) throw new Error(`${app.tool}: no .wasm emitted`);
        gone.forEach((f) => rmSync(f));
      }
      const broken = await visit(url, false, 10_000);
      app.restoreWasm?.();
      const message = [broken.result.error, ...broken.errors].filter(Boolean).join(" | ");
      check(`${app.tool}: without the .wasm the page fails: ${message.slice(0, 150)}…`,
        // An app that gave init() its location is told to check it; the default location gets the
        // bundler's fix.
        !broken.result.event && /threadtail: .*(HTTP 404|HTML page)/.test(message) &&
          (app.init ? /Check the location given to init\(\)/ : /inline|optimizeDeps/).test(message),
        JSON.stringify(broken));
    }
    await app.close?.();
    app.close = undefined;
    rows.push(`#   ${app.tool.padEnd(24)} ${app.entry.padEnd(18)} ${size ? `JS ${(size.js / 1024).toFixed(1)} KiB gz, wasm ${(size.wasm / 1024).toFixed(1)} KiB gz` : "(dev server)"}, ${seconds(t0)} s`);
  }
  console.log("# bundle bytes (JS minified + gzip -9, wasm gzip -9) and time per app:");
  rows.forEach((r) => console.log(r));
  console.log(`# bundlers: ${seconds(started)} s in all`);
  console.log(`checks: ${passed} passed`);
} catch (e) {
  console.log(e.stack || e.message);
  console.log(`checks: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  for (const app of APPS) await app.close?.();
  await browser?.close();
  await server?.stop();
  statics.forEach((s) => s.close());
  if (!process.env.KEEP_BUNDLER_APPS) rmSync(WORK, { recursive: true, force: true });
}
