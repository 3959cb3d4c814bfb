// Turns wasm-pack's --target web output into the npm package `threadtail`:
// - index.js: browsers, bundlers and workers (top-level await instantiates the module);
// - node.js: Node 20+ (reads the .wasm from disk, instantiates synchronously);
// - index.d.ts: the generated declarations plus the hand-written event types.
import { readFileSync, writeFileSync, readdirSync, existsSync, copyFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const pkg = join(root, "pkg");
const cargo = readFileSync(join(root, "Cargo.toml"), "utf8");
const version = /^version = "([^"]+)"/m.exec(cargo)[1];

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
const extras = readFileSync(join(root, "js", "extras.js"), "utf8");
const reexportError = errorModule ? `export { ThreadtailError } from ${JSON.stringify(errorModule)};\n` : "";

writeFileSync(
  join(pkg, "index.js"),
  `// Entry for browsers, bundlers and Web Workers.
import init from "./threadtail.js";
await init({ module_or_path: new URL("./threadtail_bg.wasm", import.meta.url) });
export * from "./threadtail.js";
${reexportError}import "./extras.js";
`,
);
writeFileSync(
  join(pkg, "node.js"),
  `// Entry for Node 20+.
import { readFileSync } from "node:fs";
import { initSync } from "./threadtail.js";
initSync({ module: readFileSync(new URL("./threadtail_bg.wasm", import.meta.url)) });
export * from "./threadtail.js";
${reexportError}import "./extras.js";
`,
);
writeFileSync(join(pkg, "extras.js"), extras);

const generated = readFileSync(join(pkg, "threadtail.d.ts"), "utf8");
const events = readFileSync(join(root, "types", "events.d.ts"), "utf8");
const api = existsSync(join(root, "types", "api.d.ts")) ? readFileSync(join(root, "types", "api.d.ts"), "utf8") : "";
writeFileSync(
  join(pkg, "index.d.ts"),
  `// Types of the threadtail package: generated declarations, then the event and API types.\n` +
    generated.replace(/^export default function __wbg_init[\s\S]*?;\n/m, "") +
    "\n" + events + "\n" + api,
);

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
    ".": {
      types: "./index.d.ts",
      node: "./node.js",
      default: "./index.js",
    },
    "./threadtail_bg.wasm": "./threadtail_bg.wasm",
    "./package.json": "./package.json",
  },
  files: ["index.js", "node.js", "extras.js", "index.d.ts", "threadtail.js", "threadtail.d.ts", "threadtail_bg.wasm", "threadtail_bg.wasm.d.ts", "snippets/"],
  sideEffects: ["./index.js", "./node.js", "./extras.js", "./snippets/*"],
  engines: { node: ">=20" },
};
writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
copyFileSync(join(root, "README.md"), join(pkg, "README.md"));
const wasmBytes = statSync(join(pkg, "threadtail_bg.wasm")).size;
console.log(`package: pkg/ (threadtail ${version}, threadtail_bg.wasm ${wasmBytes} bytes)`);
