// TypeScript checks of the built package: the usage file compiles, every file in mistakes/
// fails with the expected error, and the declared classes match the runtime ones (no drift).
import ts from "typescript";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const config = ts.parseJsonConfigFileContent(JSON.parse(readFileSync(join(here, "tsconfig.json"), "utf8")), ts.sys, here);
let passed = 0;
let failed = 0;
const ok = (name) => { passed++; console.log(`ok - ${name}`); };
const fail = (name, why) => { failed++; console.log(`not ok - ${name}\n  ${why}`); };

function diagnose(file) {
  const program = ts.createProgram([file], config.options);
  return ts.getPreEmitDiagnostics(program).map((d) => ({
    code: `TS${d.code}`,
    text: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    file: d.file?.fileName,
  }));
}

const usage = diagnose(join(here, "usage.ts"));
if (usage.length === 0) ok("usage.ts compiles under --strict");
else fail("usage.ts compiles under --strict", usage.map((d) => `${d.code} ${d.file}: ${d.text}`).join("\n  "));

for (const f of readdirSync(join(here, "mistakes")).filter((f) => f.endsWith(".ts")).sort()) {
  const path = join(here, "mistakes", f);
  const want = /expect-error (TS\d+)/.exec(readFileSync(path, "utf8"))?.[1];
  const got = diagnose(path);
  if (got.some((d) => d.code === want && d.file === path)) ok(`mistakes/${f} fails with ${want}`);
  else fail(`mistakes/${f} fails with ${want}`, got.length ? got.map((d) => `${d.code}: ${d.text}`).join("; ") : "it compiled");
}

// The entries' declarations as a project gets them (the exports map, a types file per
// subpath), in three kinds of project, without skipLibCheck: Node-only (lib es2022 and
// @types/node, no DOM; an ES module and a CommonJS file), browser-only (DOM, no @types/node),
// and mixed. The files are compiled next to a node_modules/threadtail link to pkg/.
const ROOT = join(here, "..", "..");
const projects = join(ROOT, ".tmp", "ts-entries");
rmSync(projects, { recursive: true, force: true });
mkdirSync(join(projects, "node_modules"), { recursive: true });
symlinkSync(join(ROOT, "pkg"), join(projects, "node_modules", "threadtail"), "dir");
cpSync(join(here, "entries"), projects, { recursive: true });
writeFileSync(join(projects, "package.json"), JSON.stringify({ name: "ts-entries", private: true, type: "module" }));
const base = { strict: true, noEmit: true, skipLibCheck: false, target: "es2022", typeRoots: [join(ROOT, "node_modules", "@types")] };
const kinds = [
  ["Node-only", ["node.mts", "require.cts"], { lib: ["es2022"], types: ["node"], module: "nodenext", moduleResolution: "nodenext" }],
  ["browser-only", ["browser.ts"], { lib: ["es2022", "dom", "dom.iterable"], types: [], module: "esnext", moduleResolution: "bundler" }],
  ["mixed (DOM and @types/node)", ["mixed.mts"], { lib: ["es2022", "dom", "dom.iterable"], types: ["node"], module: "nodenext", moduleResolution: "nodenext" }],
];
for (const [kind, files, options] of kinds) {
  const { options: parsed, errors } = ts.convertCompilerOptionsFromJson({ ...base, ...options }, projects);
  if (errors.length) throw new Error(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n")).join("; "));
  const program = ts.createProgram(files.map((f) => join(projects, f)), parsed);
  const got = ts.getPreEmitDiagnostics(program);
  const name = `${kind} project: ${files.join(", ")} and the package's declarations compile without skipLibCheck`;
  if (got.length === 0) ok(name);
  else fail(name, got.map((d) => `TS${d.code} ${d.file?.fileName.replace(projects + "/", "")}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`).join("\n  "));
}
rmSync(projects, { recursive: true, force: true });

// Every entry exports the same API at runtime; slim adds init and initSync.
const entryNames = async (file) => Object.keys(await import(join(ROOT, "pkg", file))).sort().join(", ");
const nodeNames = await entryNames("node.js");
for (const [file, extra] of [["inline.js", []], ["slim.js", ["init", "initSync"]]]) {
  const want = [...nodeNames.split(", "), ...extra].sort().join(", ");
  const have = await entryNames(file);
  if (have === want) ok(`${file} exports ${extra.length ? "the API, init and initSync" : "the API"}`);
  else fail(`${file} exports the API`, `${have} != ${want}`);
}

// Drift: every class and function the package exports at runtime is declared, with the same
// public members, and every declared class exists at runtime.
const pkgDir = join(here, "..", "..", "pkg");
const runtime = await import(join(pkgDir, "node.js"));
const dts = ts.createSourceFile("index.d.ts", readFileSync(join(pkgDir, "index.d.ts"), "utf8"), ts.ScriptTarget.Latest, true);
const declared = new Map();
const bases = new Map();
for (const st of dts.statements) {
  if (ts.isClassDeclaration(st) && st.name) {
    const members = new Set();
    for (const m of st.members) {
      if (m.name && !ts.isConstructorDeclaration(m) && !(ts.getCombinedModifierFlags(m) & ts.ModifierFlags.Private)) {
        if (ts.isComputedPropertyName(m.name)) members.add("[Symbol.asyncIterator]");
        else members.add(m.name.text);
      }
    }
    declared.set(st.name.text, members);
    const ext = st.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression.getText();
    if (ext) bases.set(st.name.text, ext);
  }
  if (ts.isFunctionDeclaration(st) && st.name) declared.set(st.name.text, "function");
}
const membersOf = (name) => {
  const own = declared.get(name);
  const base = bases.get(name);
  return base && declared.get(base) instanceof Set ? new Set([...own, ...declared.get(base)]) : own;
};
const ignoredRuntime = new Set(["initSync"]);
for (const [name, value] of Object.entries(runtime)) {
  if (ignoredRuntime.has(name)) continue;
  if (!declared.has(name)) { fail(`export ${name} is declared`, "missing from index.d.ts"); continue; }
  if (typeof value === "function" && value.prototype && declared.get(name) instanceof Set && name !== "ThreadtailError") {
    const want = membersOf(name);
    const have = new Set(Object.getOwnPropertyNames(value.prototype).filter((n) => n !== "constructor" && !n.startsWith("__")));
    if (value.prototype[Symbol.asyncIterator]) have.add("[Symbol.asyncIterator]");
    const missingDecl = [...have].filter((n) => !want.has(n));
    const missingRuntime = [...want].filter((n) => !have.has(n));
    if (missingDecl.length || missingRuntime.length) {
      fail(`${name}: declared members match the runtime`, `not declared: ${missingDecl.join(", ") || "-"}; declared but absent: ${missingRuntime.join(", ") || "-"}`);
    } else ok(`${name}: declared members match the runtime`);
  } else ok(`export ${name} is declared`);
}
for (const name of declared.keys()) {
  if (name === "StreamBase") continue;
  if (!(name in runtime)) fail(`declared ${name} exists at runtime`, "not exported by the package");
}

console.log(`checks: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
