// TypeScript checks of the built package: the usage file compiles, every file in mistakes/
// fails with the expected error, and the declared classes match the runtime ones (no drift).
import ts from "typescript";
import { readFileSync, readdirSync } from "node:fs";
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
