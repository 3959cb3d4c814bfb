// The package's entries in Node, as installed (a node_modules/threadtail link to pkg/, so the
// exports map decides): require() and import pick the node entry and need no file; the slim
// entry's init() takes every kind of input once, and fails with errors that name the fix. Each
// case runs in its own process: the wasm, once loaded, stays loaded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const APP = join(ROOT, ".tmp/node-entries");
const WASM = readFileSync(join(ROOT, "pkg/threadtail_bg.wasm"));
let server;
let base;

before(async () => {
  rmSync(APP, { recursive: true, force: true });
  mkdirSync(join(APP, "node_modules"), { recursive: true });
  symlinkSync(join(ROOT, "pkg"), join(APP, "node_modules/threadtail"), "dir");
  writeFileSync(join(APP, "package.json"), JSON.stringify({ name: "node-entries", private: true }));
  // Answers like the servers the loader meets: the file, a 404, an SPA's index.html, and Vite
  // 7's dev server (index.html in the pre-bundled deps folder, the file in the package's).
  server = createServer((req, res) => {
    const wasm = () => res.writeHead(200, { "content-type": "application/wasm" }).end(WASM);
    const html = () => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>app</title>");
    if (req.url === "/threadtail_bg.wasm" || req.url === "/node_modules/threadtail/threadtail_bg.wasm") wasm();
    else if (req.url === "/spa/threadtail_bg.wasm" || req.url.startsWith("/node_modules/.vite/deps/")) html();
    else if (req.url === "/broken/threadtail_bg.wasm") res.writeHead(200, { "content-type": "application/wasm" }).end("GIF89a, not wasm");
    else if (req.url === "/typed-with-parameters/threadtail_bg.wasm") res.writeHead(200, { "content-type": "application/wasm; charset=binary" }).end(WASM);
    else res.writeHead(404).end("not found");
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.close();
  rmSync(APP, { recursive: true, force: true });
});

// Runs a script in APP (asynchronously: this process serves the wasm meanwhile); resolves with
// { stdout, stderr }.
function run(file, source) {
  writeFileSync(join(APP, file), source);
  return new Promise((ok, fail) => {
    execFile(process.execPath, [join(APP, file)], { cwd: APP, encoding: "utf8" }, (e, stdout, stderr) => {
      if (e) fail(new Error(`${file}: ${e.message}\n${stderr}`));
      else ok({ stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

test("require('threadtail') loads the node entry, with no warning (require(esm))", async () => {
  const { stdout, stderr } = await run("require.cjs", `
    const tt = require("threadtail");
    const [e] = new tt.SseParser().push("id: 1\\ndata: x\\n\\n");
    console.log(require.resolve("threadtail").endsWith("node.js"), e.data, typeof tt.ThreadStream, typeof tt.ThreadtailError);
  `);
  assert.equal(stdout, "true x function function");
  assert.equal(stderr, "");
});

test("import 'threadtail' in Node resolves to the node entry and works without reading a file", async () => {
  const { stdout } = await run("import.mjs", `
    import * as tt from "threadtail";
    console.log(import.meta.resolve("threadtail").endsWith("/node.js"), new tt.SseParser().push("data: y\\n\\n")[0].data);
  `);
  assert.equal(stdout, "true y");
});

test("slim: the API before init() says what to do; init() reads the file next to it; every call returns the same promise", async () => {
  const { stdout } = await run("slim-default.mjs", `
    import { init, SseParser } from "threadtail/slim";
    let before;
    try { new SseParser(); } catch (e) { before = e.message; }
    const a = init(), b = init();
    await a;
    console.log(JSON.stringify({ before, same: a === b, data: new SseParser().push("data: z\\n\\n")[0].data }));
  `);
  const r = JSON.parse(stdout);
  assert.match(r.before, /not loaded yet: call and await init\(\) from "threadtail\/slim"/);
  assert.equal(r.same, true);
  assert.equal(r.data, "z");
});

for (const [name, input] of [
  ["a URL string", (b) => `"${b}/threadtail_bg.wasm"`],
  ["a URL object", (b) => `new URL("${b}/threadtail_bg.wasm")`],
  ["a promise of a Response", (b) => `fetch("${b}/threadtail_bg.wasm")`],
  ["a Response", (b) => `await fetch("${b}/threadtail_bg.wasm")`],
  ["the bytes", () => `readFileSync(new URL(import.meta.resolve("threadtail/threadtail_bg.wasm")))`],
  ["a WebAssembly.Module", () => `await WebAssembly.compile(readFileSync(new URL(import.meta.resolve("threadtail/threadtail_bg.wasm"))))`],
  ["Vite 7 dev's pre-bundled URL (index.html there; the package folder is tried)", (b) => `"${b}/node_modules/.vite/deps/threadtail_bg.wasm?v=1234"`],
]) {
  test(`slim: init() takes ${name}`, async () => {
    const { stdout } = await run("slim-input.mjs", `
      import { readFileSync } from "node:fs";
      import { init, SseParser } from "threadtail/slim";
      await init(${input(base)});
      console.log(new SseParser().push("data: ok\\n\\n")[0].data);
    `);
    assert.equal(stdout, "ok");
  });
}

for (const [name, input, want] of [
  // The app chose the location: the fix is that location, not a bundler setting (the default
  // entry's bundler hints are checked in tests/bundlers/run.mjs).
  ["a 404", (b) => `"${b}/missing/threadtail_bg.wasm"`, /HTTP 404.*Check the location given to init\(\)/],
  ["an HTML page", (b) => `"${b}/spa/threadtail_bg.wasm"`, /an HTML page came back.*Check the location given to init\(\)/],
  ["a relative URL (no document to resolve it)", () => `"threadtail_bg.wasm"`, /could not fetch threadtail_bg\.wasm .*give an absolute URL/],
  ["a rejected promise", () => `Promise.reject(new Error("no CDN"))`, /the promise given to init\(\) rejected \(no CDN\)/],
  ["bytes that are not WebAssembly", () => `new TextEncoder().encode("GIF89a")`, /not WebAssembly \(it starts with 47 49 46 38, not 00 61 73 6d\)/],
  // Compiled as it downloads, so only the compiler sees what came back.
  ["a file served as application/wasm that does not compile", (b) => `"${b}/broken/threadtail_bg.wasm"`, /broken\/threadtail_bg\.wasm: served as application\/wasm, but not WebAssembly that compiles \(.*\): a truncated or altered file/],
  ["a download that breaks off", () => `new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); c.error(new Error("connection reset")); } }), { headers: { "content-type": "application/wasm" } })`, /could not read the answer of the Response given to init\(\) \(connection reset\)/],
  ["a Response whose body was read", (b) => `fetch("${b}/threadtail_bg.wasm").then(async (r) => (await r.arrayBuffer(), r))`, /could not read the answer of http:\/\/127\.0\.0\.1:\d+\/threadtail_bg\.wasm/],
  ["a truncated file", () => `readFileSync(new URL(import.meta.resolve("threadtail/threadtail_bg.wasm"))).subarray(0, 1000)`, /the bytes given to init\(\): not WebAssembly that compiles \(.*\): a truncated or altered file/],
]) {
  test(`slim: init() rejects ${name} with a wasm_load ThreadtailError naming the fix; a later init() may succeed`, async () => {
    const { stdout } = await run("slim-error.mjs", `
      import { readFileSync } from "node:fs";
      import { init, SseParser, ThreadtailError } from "threadtail/slim";
      let error;
      try { await init(${input(base)}); } catch (e) { error = e; }
      await init("${base}/threadtail_bg.wasm");
      console.log(JSON.stringify({ isError: error instanceof ThreadtailError, kind: error?.kind, message: error?.message, after: new SseParser().push("data: ok\\n\\n").length }));
    `);
    const r = JSON.parse(stdout);
    assert.equal(r.isError, true);
    assert.equal(r.kind, "wasm_load");
    assert.match(r.message, want);
    assert.equal(r.after, 1);
  });
}

test("slim: a native Response served as application/wasm is compiled as it downloads; anything else is read and checked first", async () => {
  const { stdout } = await run("slim-streaming.mjs", `
    import { init, SseParser } from "threadtail/slim";
    let streamed = 0;
    const instantiateStreaming = WebAssembly.instantiateStreaming;
    WebAssembly.instantiateStreaming = (...args) => (streamed++, instantiateStreaming(...args));
    await init("${base}/threadtail_bg.wasm");
    console.log(JSON.stringify({ first: streamed, parsed: new SseParser().push("data: ok\\n\\n").length }));
  `);
  assert.deepEqual(JSON.parse(stdout), { first: 1, parsed: 1 });
  const { stdout: untyped } = await run("slim-untyped.mjs", `
    import { readFileSync } from "node:fs";
    import { init } from "threadtail/slim";
    let streamed = 0;
    const instantiateStreaming = WebAssembly.instantiateStreaming;
    WebAssembly.instantiateStreaming = (...args) => (streamed++, instantiateStreaming(...args));
    await init(new Response(readFileSync(new URL(import.meta.resolve("threadtail/threadtail_bg.wasm")))));
    console.log(streamed);
  `);
  assert.equal(untyped, "0", "a Response without the wasm type is read as bytes (and checked)");
  // With parameters, wasm-bindgen's loader (and Node) would not stream it either, and would warn.
  const { stdout: withParameters, stderr } = await run("slim-parameters.mjs", `
    import { init, SseParser } from "threadtail/slim";
    let streamed = 0;
    const instantiateStreaming = WebAssembly.instantiateStreaming;
    WebAssembly.instantiateStreaming = (...args) => (streamed++, instantiateStreaming(...args));
    await init("${base}/typed-with-parameters/threadtail_bg.wasm");
    console.log(streamed, new SseParser().push("data: ok\\n\\n").length);
  `);
  assert.equal(withParameters, "0 1");
  assert.equal(stderr, "", "no warning from the loader");
});

test("slim: a URL or Response of another kind (by shape, as declared) loads too", async () => {
  const { stdout } = await run("slim-shapes.mjs", `
    import { init, SseParser } from "threadtail/slim";
    // A Location-like object: fetched from its href.
    await init({ href: "${base}/threadtail_bg.wasm" });
    console.log(new SseParser().push("data: ok\\n\\n").length);
  `);
  assert.equal(stdout, "1");
  const { stdout: viaResponse } = await run("slim-response-like.mjs", `
    import { init, SseParser } from "threadtail/slim";
    const bytes = await (await fetch("${base}/threadtail_bg.wasm")).arrayBuffer();
    await init({ ok: true, status: 200, url: "somewhere", arrayBuffer: async () => bytes });
    console.log(new SseParser().push("data: ok\\n\\n").length);
  `);
  assert.equal(viaResponse, "1");
});

test("slim: initSync() while init() is loading keeps one instance (objects made meanwhile stay valid)", async () => {
  const { stdout } = await run("slim-race.mjs", `
    import { init, initSync, SseParser } from "threadtail/slim";
    const bytes = new Uint8Array(await (await fetch("${base}/threadtail_bg.wasm")).arrayBuffer());
    const loading = init(bytes);
    for (let i = 0; i < 10; i++) await null; // init() is now instantiating
    initSync(bytes);
    const parsers = Array.from({ length: 20 }, (_, i) => { const p = new SseParser(); p.push("data: part-" + i); return p; });
    await loading;
    console.log(parsers.filter((p, i) => p.push("\\n\\n")[0]?.data === "part-" + i).length);
  `);
  assert.equal(stdout, "20");
});

test("slim: init() with something that is no input is an invalid_argument error", async () => {
  const { stdout } = await run("slim-bad.mjs", `
    import { init } from "threadtail/slim";
    try { await init(42); } catch (e) { console.log(e.kind); }
  `);
  assert.equal(stdout, "invalid_argument");
});
