// Shipped size: what an app bundles, minified (esbuild) and gzipped (level 9), for threadtail
// (browser entry pkg/index.js + the .wasm it fetches) and for each peer's whole entry point.
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const gz = (buf) => gzipSync(buf, { level: 9 }).length;

async function bundle(contents, extra = {}) {
  const r = await build({
    stdin: { contents, resolveDir: root, loader: "js" }, bundle: true, minify: true, format: "esm",
    platform: "browser", write: false, logLevel: "silent", ...extra,
  });
  return Buffer.from(r.outputFiles[0].contents);
}

export async function sizes() {
  const out = {};
  const glue = await bundle('export * from "./pkg/index.js";');
  const wasm = readFileSync(root + "pkg/threadtail_bg.wasm");
  out.threadtail = { glue_min: glue.length, glue_gzip: gz(glue), wasm: wasm.length, wasm_gzip: gz(wasm),
    total_gzip: gz(glue) + gz(wasm) };
  // The inline entry carries the wasm in base64 inside the JavaScript: one file, no asset.
  if (existsSync(root + "pkg/inline.js")) {
    const inline = await bundle('export * from "./pkg/inline.js";');
    out.threadtail.inline_min = inline.length;
    out.threadtail.inline_gzip = gz(inline);
  }
  for (const [name, src] of [
    ["eventsource-parser", 'export * from "eventsource-parser";'],
    ["@microsoft/fetch-event-source", 'export * from "@microsoft/fetch-event-source";'],
    ["eventsource", 'export * from "eventsource";'],
  ]) {
    const b = await bundle(src);
    out[name] = { glue_min: b.length, glue_gzip: gz(b), total_gzip: gz(b) };
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(await sizes(), null, 1));
