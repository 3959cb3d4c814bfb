// Shortens the names of the wasm's imports from wasm-bindgen's own JavaScript module
// (`./threadtail_bg.js`, fields like `__wbg_set_with_credentials_aade0eb8027a7edd`) to
// `a`, `b`, …, in the .wasm and in the glue that provides them, and of the exports the glue
// calls as `wasm.NAME` to `xa`, `xb`, … . Why: the names carry hashes,
// so gzip cannot fold them; about 6 KB of the wasm and 4 KB of the glue (3 KB gzipped in all).
// Imports from other modules (the snippets, whose export names are ours) are left alone; a glue
// import the JavaScript names more than once stops the build (renaming it would not be safe).
// Run by scripts/build.sh after wasm-pack.
//
// Usage: node scripts/shorten-imports.mjs pkg/threadtail_bg.wasm pkg/threadtail.js
import { readFileSync, writeFileSync } from "node:fs";

const GLUE_MODULE = "./threadtail_bg.js";
const SHORT_MODULE = "a";

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) throw new Error("usage: shorten-imports.mjs <wasm> <glue js>");
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

// --- wasm binary reading and writing (only what the import section needs) ---
function readU32(buf, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}
function u32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
}
const name = (text) => {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([u32(bytes.length), bytes]);
};
function readName(buf, at) {
  const [len, start] = readU32(buf, at);
  return [buf.toString("utf8", start, start + len), start + len];
}
// Skips an import's description (what follows its kind byte) and returns where it ends.
function skipDescription(buf, kind, at) {
  const limits = (p) => {
    const flags = buf[p++];
    [, p] = readU32(buf, p);
    if (flags & 1) [, p] = readU32(buf, p);
    return p;
  };
  switch (kind) {
    case 0: return readU32(buf, at)[1]; // function: type index
    case 1: return limits(at + 1); // table: reference type, limits
    case 2: return limits(at); // memory: limits
    case 3: return at + 2; // global: value type, mutability
    case 4: return readU32(buf, at + 1)[1]; // tag: attribute, type index
    default: throw new Error(`import kind ${kind} is not known to this script`);
  }
}

if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath} is not a wasm module`);
const counts = new Map();
const uses = (field) => {
  if (!counts.has(field)) {
    counts.set(field, (js.match(new RegExp(`\\b${field.replace(/[$]/g, "\\$")}\\b`, "g")) ?? []).length);
  }
  return counts.get(field);
};

// Short names in order: a..z, A..Z, then two letters (only ever object keys, so any identifier
// will do).
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const shortName = (i) => (i < letters.length ? letters[i] : shortName(Math.floor(i / letters.length) - 1) + letters[i % letters.length]);

// Exports the glue reads as `wasm.NAME` get short names too (`wasm_bindgen__convert__closures…
// _invoke__h02770998fa31b39d`); those it never names that way keep theirs.
const renamedExports = new Map();
const exportUses = (field) =>
  (js.match(new RegExp(`\\bwasm\\.${field.replace(/[$]/g, "\\$")}(?![\\w$])`, "g")) ?? []).length;
function exportSection(content) {
  let p = 0;
  let count;
  [count, p] = readU32(content, p);
  const entries = [u32(count)];
  for (let i = 0; i < count; i++) {
    let field;
    [field, p] = readName(content, p);
    const kind = content[p];
    const indexEnd = readU32(content, p + 1)[1];
    const description = content.subarray(p, indexEnd);
    p = indexEnd;
    let out = field;
    // `memory` keeps its well-known name: the instance's exports are handed back by initSync().
    if (field !== "memory" && exportUses(field) > 0) {
      out = "x" + shortName(renamedExports.size);
      renamedExports.set(field, out);
    }
    entries.push(name(out), description);
  }
  const body = Buffer.concat(entries);
  return Buffer.concat([Buffer.from([7]), u32(body.length), body]);
}

const parts = [wasm.subarray(0, 8)];
let at = 8;
const renamed = new Map();
while (at < wasm.length) {
  const id = wasm[at];
  const [size, contentStart] = readU32(wasm, at + 1);
  const end = contentStart + size;
  if (id === 7) {
    parts.push(exportSection(wasm.subarray(contentStart, end)));
    at = end;
    continue;
  }
  if (id !== 2) {
    parts.push(wasm.subarray(at, end));
    at = end;
    continue;
  }
  let p = contentStart;
  let count;
  [count, p] = readU32(wasm, p);
  const entries = [u32(count)];
  for (let i = 0; i < count; i++) {
    let module, field;
    [module, p] = readName(wasm, p);
    [field, p] = readName(wasm, p);
    const kind = wasm[p];
    const descEnd = skipDescription(wasm, kind, p + 1);
    const description = wasm.subarray(p, descEnd);
    p = descEnd;
    if (module === GLUE_MODULE && uses(field) === 1) {
      const short = shortName(renamed.size);
      renamed.set(field, short);
      entries.push(name(SHORT_MODULE), name(short), description);
    } else {
      // Every import of the glue module is renamed, the module too (one object provides them).
      if (module === GLUE_MODULE) throw new Error(`${field} is used ${uses(field)} times in ${jsPath}: cannot shorten it safely`);
      entries.push(name(module), name(field), description);
    }
  }
  const content = Buffer.concat(entries);
  parts.push(Buffer.from([2]), u32(content.length), content);
  at = end;
}

if (renamed.size === 0) throw new Error(`no import from ${GLUE_MODULE} in ${wasmPath}`);
for (const [field, short] of renamed) {
  js = js.replace(new RegExp(`\\b${field}\\b`), short);
}
const exportNames = WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name);
for (const short of renamedExports.values()) {
  if (exportNames.includes(short)) throw new Error(`export name ${short} is taken: cannot shorten exports safely`);
}
for (const [field, short] of renamedExports) {
  js = js.replace(new RegExp(`\\bwasm\\.${field.replace(/[$]/g, "\\$")}(?![\\w$])`, "g"), `wasm.${short}`);
}
const moduleKey = JSON.stringify(GLUE_MODULE);
if (!js.includes(`${moduleKey}:`)) throw new Error(`${jsPath} has no ${moduleKey} key in its imports`);
js = js.replace(`${moduleKey}:`, `${JSON.stringify(SHORT_MODULE)}:`);

const out = Buffer.concat(parts);
new WebAssembly.Module(out); // throws if the rewrite broke the module
writeFileSync(wasmPath, out);
writeFileSync(jsPath, js);
console.error(`shorten-imports: ${renamed.size} imports and ${renamedExports.size} exports renamed; wasm ${wasm.length} -> ${out.length} bytes`);
