// Prepares bench/.www: the pages, generator and adapters, pkg/, and the peers bundled by
// esbuild into ES modules (what the reference server serves with --static).
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const www = root + "bench/.www/";
rmSync(www, { recursive: true, force: true });
mkdirSync(www + "lib", { recursive: true });
for (const f of ["page.html", "browser.mjs", "gen.mjs", "adapters.mjs"]) cpSync(root + "bench/" + f, www + f);
cpSync(root + "pkg", www + "pkg", { recursive: true });
for (const [out, spec] of [["eventsource-parser", "eventsource-parser"], ["fetch-event-source", "@microsoft/fetch-event-source"], ["eventsource", "eventsource"]]) {
  await build({ stdin: { contents: `export * from "${spec}";`, resolveDir: root, loader: "js" }, bundle: true,
    minify: true, format: "esm", platform: "browser", outfile: www + "lib/" + out + ".js", logLevel: "silent" });
}
console.log(www);
