// Turns wasm-pack's --target web output into the npm package `threadtail` (README "Using it
// with your bundler" says which entry to pick when):
// - index.js ("threadtail"): browsers, bundlers, workers. Top-level await loads
//   threadtail_bg.wasm from `new URL("./threadtail_bg.wasm", import.meta.url)`, the pattern
//   webpack 5, Vite and Parcel see and copy the file for; checks what came back (load.js).
// - slim.js ("threadtail/slim"): no top-level await; init(input?) / initSync(bytes | module).
// - inline.js ("threadtail/inline"): the wasm inside (base64), instantiated synchronously at
//   import: no URL, no top-level await, so it works in every bundler and worker format.
// - node.js (the "node" condition, and so require()): the inline entry. Bundled server code
//   (Next.js) rewrites `import.meta.url`, so nothing there may read a file next to the module.
// - index.d.ts, slim.d.ts, inline.d.ts: hand-written types (types/), no DOM names needed.
// It also post-processes wasm-bindgen's glue (threadtail.js); each rewrite fails the build
// when its pattern is not found exactly, so a wasm-bindgen upgrade cannot skip one silently.
import { readFileSync, writeFileSync, readdirSync, existsSync, copyFileSync, statSync, rmSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const pkg = join(root, "pkg");
const cargo = readFileSync(join(root, "Cargo.toml"), "utf8");
const version = /^version = "([^"]+)"/m.exec(cargo)[1];
const WASM = "threadtail_bg.wasm";

// Find the JS snippet that defines ThreadtailError (its folder name carries a hash).
function findSnippet(name) {
  const dir = join(pkg, "snippets");
  if (!existsSync(dir)) return null;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) stack.push(p);
      else if (e === name) return "./" + relative(pkg, p);
    }
  }
  return null;
}
const errorModule = findSnippet("glue.js");
if (!errorModule) throw new Error("package: no snippets/**/glue.js (ThreadtailError) in pkg/");

// replace(text, from, to, count): exactly `count` occurrences, or the build stops.
function replace(text, from, to, count = 1, what = from) {
  const n = text.split(from).length - 1;
  if (n !== count) throw new Error(`package: expected ${count} of ${JSON.stringify(what)} in threadtail.js, found ${n}`);
  return text.split(from).join(to);
}

// ---- wasm-bindgen's glue --------------------------------------------------------------------
let glue = readFileSync(join(pkg, "threadtail.js"), "utf8");
// Run again on its own output (no wasm-pack in between): the glue is done already.
const processed = glue.includes("export function isLoaded()");
if (!processed) {
// Its types are ours (index.d.ts); threadtail.d.ts uses DOM names and is not shipped.
glue = glue.replace(/^\/\* @ts-self-types="[^"]*" \*\/\n/, "");
// One `import * as importN` per `#[wasm_bindgen(module = ...)]` block, all of the same file,
// each a key of the imports object: esbuild warns "Duplicate key" for every repeat. They are
// the same namespace object: keep the first import and key of each module.
{
  const firstOf = new Map();
  for (const [line, name, spec] of glue.matchAll(/^import \* as (import\d+) from ("[^"]+")\n/gm)) {
    if (!firstOf.has(spec)) { firstOf.set(spec, name); continue; }
    glue = replace(glue, line, "", 1, line.trim());
    glue = replace(glue, `        ${spec}: ${name},\n`, "", 1, `${spec}: ${name}`);
  }
}
// No default URL in the glue: load.js always passes one, and the inline entry must not make
// bundlers copy a file it never fetches.
glue = replace(glue, "        module_or_path = new URL('threadtail_bg.wasm', import.meta.url);\n",
  "        throw new Error('threadtail: internal: no wasm given');\n");
// Before the wasm is loaded (threadtail/slim without init()), any call says what to do instead
// of "cannot read properties of undefined".
glue = replace(glue, "let wasmModule, wasmInstance, wasm;\n",
  `const NOT_LOADED = new Proxy({}, { get() {
    throw new Error('threadtail: the WebAssembly is not loaded yet: call and await init() from "threadtail/slim" first (the "threadtail" and "threadtail/inline" entries load it by themselves)');
} });
let wasmModule, wasmInstance, wasm = NOT_LOADED;
/** Whether the wasm is instantiated (used by load.js). */
export function isLoaded() { return wasm !== NOT_LOADED; }
`);
glue = replace(glue, "    if (wasm !== undefined) return wasm;\n", "    if (wasm !== NOT_LOADED) return wasm;\n", 2);
// initSync() (or the inline entry) may load the wasm while init() awaits its bytes: the objects
// made meanwhile live in that instance, so init() must keep it rather than finalize a second.
glue = replace(glue,
  "    const { instance, module } = await __wbg_load(await module_or_path, imports);\n\n    return __wbg_finalize_init(instance, module);\n",
  "    const { instance, module } = await __wbg_load(await module_or_path, imports);\n    if (wasm !== NOT_LOADED) return wasm;\n\n    return __wbg_finalize_init(instance, module);\n");
writeFileSync(join(pkg, "threadtail.js"), glue);
}

// The public API: every class and function of the glue but its init functions.
const api = [...glue.matchAll(/^export (?:class|function) (\w+)/gm)].map((m) => m[1]).filter((n) => n !== "isLoaded");
if (!api.includes("ThreadStream")) throw new Error("package: no ThreadStream export in threadtail.js");
const exportApi = `export { ${api.join(", ")} } from "./threadtail.js";
export { ThreadtailError } from ${JSON.stringify(errorModule)};
import "./extras.js";
`;

// ---- hand-written modules ---------------------------------------------------------------------
writeFileSync(join(pkg, "extras.js"), readFileSync(join(root, "js", "extras.js"), "utf8"));
// "threadtail/model": plain JavaScript, no wasm and no side effects (js/model.js says why).
writeFileSync(join(pkg, "model.js"), readFileSync(join(root, "js", "model.js"), "utf8"));
// "threadtail/tabs": plain JavaScript over the default entry's streams (js/tabs.js says why).
for (const f of ["tabs.js", "tabs-core.js"]) writeFileSync(join(pkg, f), readFileSync(join(root, "js", f), "utf8"));
writeFileSync(join(pkg, "load.js"),
  replace(readFileSync(join(root, "js", "load.js"), "utf8"), `from "./glue.js"`, `from ${JSON.stringify(errorModule)}`));

// ---- entries -----------------------------------------------------------------------------------
writeFileSync(join(pkg, "index.js"), `// Entry for browsers, bundlers and Web Workers: loads threadtail_bg.wasm from next to this
// module with top-level await (webpack 5, Vite and Parcel see the \`new URL\` and copy the
// file). No top-level await or no copied file (esbuild, Rollup, Vite 6, iife workers):
// "threadtail/inline" or "threadtail/slim". README "Using it with your bundler".
import { loadWasm, holdWorkerMessages } from "./load.js";
${exportApi}
const release = holdWorkerMessages();
try {
  await loadWasm(new URL("./${WASM}", import.meta.url));
} finally {
  release();
}
`);

writeFileSync(join(pkg, "slim.js"), `// Entry with an explicit init(): no top-level await, and the wasm comes from where you say
// (a URL, a Response, the bytes or a compiled WebAssembly.Module), by default the file next
// to this module. For CDNs, custom asset layouts, workers and strict environments.
import { loadWasm, loadWasmSync } from "./load.js";
${exportApi}
let ready;

/** Loads the wasm (once: every call returns the same promise until a load fails). */
export function init(input) {
  if (ready === undefined) {
    ready = input === undefined
      ? loadWasm(new URL("./${WASM}", import.meta.url))
      : loadWasm(input, { given: true });
    // A failed load may be retried (another URL, the server back up).
    ready.catch(() => { ready = undefined; });
  }
  return ready;
}

/** Instantiates the wasm synchronously from its bytes or a compiled module. */
export function initSync(input) {
  loadWasmSync(input);
}
`);

const wasmBytes = readFileSync(join(pkg, WASM));
writeFileSync(join(pkg, "inline.js"), `// Entry with the wasm inside (base64), instantiated synchronously at import: no fetch, no
// top-level await, no file for a bundler to copy. Works in every bundler, worker format and
// server bundle, at the cost of ~a third more bytes to download than the separate .wasm.
import { initSync } from "./threadtail.js";
${exportApi}
const WASM_BASE64 = "${wasmBytes.toString("base64")}";

function decode(base64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(base64);
  // Node before 25 has no fromBase64; its Buffer decodes natively (0.8 ms here against 6 ms
  // for the loop below). Read from globalThis so that no bundler injects a Buffer polyfill.
  const NodeBuffer = globalThis.Buffer;
  if (typeof NodeBuffer?.from === "function") {
    const b = NodeBuffer.from(base64, "base64");
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

initSync({ module: decode(WASM_BASE64) });
`);

writeFileSync(join(pkg, "node.js"), `// Entry for Node (the "node" condition: import and require()). The inline entry: bundled server
// code (Next.js) rewrites \`import.meta.url\`, so a file next to this module cannot be relied on.
export * from "./inline.js";
`);

// ---- types ---------------------------------------------------------------------------------------
const events = readFileSync(join(root, "types", "events.d.ts"), "utf8");
const apiTypes = readFileSync(join(root, "types", "api.d.ts"), "utf8");
writeFileSync(join(pkg, "index.d.ts"), `// Types of the threadtail package (every entry): the event types, then the API.\n${events}\n${apiTypes}`);
writeFileSync(join(pkg, "slim.d.ts"), readFileSync(join(root, "types", "slim.d.ts"), "utf8"));
writeFileSync(join(pkg, "model.d.ts"), readFileSync(join(root, "types", "model.d.ts"), "utf8"));
writeFileSync(join(pkg, "tabs.d.ts"), readFileSync(join(root, "types", "tabs.d.ts"), "utf8"));
writeFileSync(join(pkg, "inline.d.ts"), `// Types of "threadtail/inline": the same API as "threadtail".\nexport * from "./index.js";\n`);
// wasm-bindgen's declarations name DOM types (RequestInfo, Response, BufferSource): not shipped.
for (const f of ["threadtail.d.ts", "threadtail_bg.wasm.d.ts"]) rmSync(join(pkg, f), { force: true });

const manifest = {
  name: "threadtail",
  version,
  description: "Follow the live event stream of an agent session's thread over Server-Sent Events, from WebAssembly.",
  license: "MIT OR Apache-2.0",
  type: "module",
  main: "./node.js",
  module: "./index.js",
  types: "./index.d.ts",
  exports: {
    ".": { types: "./index.d.ts", node: "./node.js", default: "./index.js" },
    "./slim": { types: "./slim.d.ts", default: "./slim.js" },
    "./inline": { types: "./inline.d.ts", default: "./inline.js" },
    "./model": { types: "./model.d.ts", default: "./model.js" },
    "./tabs": { types: "./tabs.d.ts", default: "./tabs.js" },
    [`./${WASM}`]: `./${WASM}`,
    "./package.json": "./package.json",
  },
  files: ["index.js", "slim.js", "inline.js", "node.js", "load.js", "extras.js", "threadtail.js", WASM,
    "index.d.ts", "slim.d.ts", "inline.d.ts", "model.js", "model.d.ts",
    "tabs.js", "tabs-core.js", "tabs.d.ts", "snippets/"],
  sideEffects: ["./index.js", "./slim.js", "./inline.js", "./node.js", "./extras.js", "./snippets/*"],
  // require("threadtail") loads the ESM node entry (require(esm), on by default from these).
  engines: { node: "^20.19.0 || >=22.12.0" },
};
writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
copyFileSync(join(root, "README.md"), join(pkg, "README.md"));
console.log(`package: pkg/ (threadtail ${version}, ${WASM} ${wasmBytes.length} bytes)`);
