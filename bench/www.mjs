// Prepares bench/.www: the pages, generator and adapters, pkg/, and threadtail's browser entry
// and the peers bundled by esbuild into ES modules (what the reference server serves with --static).
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const www = root + "bench/.www/";
rmSync(www, { recursive: true, force: true });
mkdirSync(www + "lib", { recursive: true });
for (const f of ["page.html", "browser.mjs", "gen.mjs", "adapters.mjs"]) cpSync(root + "bench/" + f, www + f);
cpSync(root + "pkg", www + "pkg", { recursive: true });
// threadtail's browser entry bundled the same way, as an app's bundler would (one JavaScript file
// and the wasm beside it, where the entry's `new URL(..., import.meta.url)` finds it): time to
// first event is measured both ways (README "Size and speed").
await build({ entryPoints: [root + "pkg/index.js"], bundle: true, minify: true, format: "esm", platform: "browser",
  outfile: www + "lib/threadtail.js", logLevel: "silent" });
cpSync(root + "pkg/threadtail_bg.wasm", www + "lib/threadtail_bg.wasm");
// The same page with the preload link the README suggests: the wasm's download starts at once.
writeFileSync(www + "preload.html", readFileSync(root + "bench/page.html", "utf8").replace(
  '<script type="module"', '<link rel="preload" href="/lib/threadtail_bg.wasm" as="fetch" crossorigin>\n<script type="module"'));
for (const [out, spec] of [["eventsource-parser", "eventsource-parser"], ["fetch-event-source", "@microsoft/fetch-event-source"], ["eventsource", "eventsource"]]) {
  await build({ stdin: { contents: `export * from "${spec}";`, resolveDir: root, loader: "js" }, bundle: true,
    minify: true, format: "esm", platform: "browser", outfile: www + "lib/" + out + ".js", logLevel: "silent" });
}
console.log(www);
