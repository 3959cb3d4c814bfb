// The option names each entry point reads at run time are exactly the ones its TypeScript
// declaration lists (pkg/index.d.ts), both ways: an option renamed in Rust (src/js/options.rs,
// list.rs, parser.rs) without the declarations, or declared and never read, fails here.
// The readers are observed through a Proxy that records every property they ask for.
import { test } from "node:test";
import assert from "node:assert/strict";
import ts from "typescript";
import { fileURLToPath } from "node:url";
import { ThreadStream, SessionStream, SseParser, listThreads, listThreadEvents } from "../../pkg/node.js";

const DTS = fileURLToPath(new URL("../../pkg/index.d.ts", import.meta.url));
const program = ts.createProgram([DTS], { strict: true, noEmit: true, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"] });
const checker = program.getTypeChecker();
const source = program.getSourceFile(DTS);

/** The property names of a declared interface, or of a function's first parameter. */
function declared(name, { parameterOf } = {}) {
  let type;
  ts.forEachChild(source, (node) => {
    if (node.name?.text !== (parameterOf ?? name)) return;
    if (parameterOf && ts.isFunctionDeclaration(node)) type = checker.getTypeAtLocation(node.parameters[0]);
    else if (!parameterOf && (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)))
      type = checker.getTypeAtLocation(node.name);
  });
  assert.ok(type, `${parameterOf ?? name} is declared in pkg/index.d.ts`);
  return new Set(checker.getPropertiesOfType(type).map((p) => p.name));
}

/** An options object that records what is read from it; `values` answers the required ones. */
function recorder(values) {
  const read = new Set();
  const proxy = new Proxy(values, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return target[key];
    },
    has(target, key) {
      if (typeof key === "string") read.add(key);
      return key in target;
    },
  });
  return { proxy, read };
}

const never = () => new Promise(() => {});
const connection = { baseUrl: "http://127.0.0.1:9/v1", sessionId: "sess_1", token: "tok-abcdef", fetch: never };
const sorted = (set) => [...set].sort();

test("ThreadStream and SessionStream read exactly their declared options, retry's too", () => {
  for (const [Class, declaredName, extra] of [
    [ThreadStream, "ThreadStreamOptions", { threadId: "sthr_1" }],
    [SessionStream, "SessionStreamOptions", {}],
  ]) {
    const retry = recorder({});
    const options = recorder({ ...connection, ...extra, retry: retry.proxy });
    const stream = new Class(options.proxy);
    stream.close();
    assert.deepEqual(sorted(options.read), sorted(declared(declaredName)), `${Class.name} options`);
    assert.deepEqual(sorted(retry.read), sorted(declared("RetryOptions")), `${Class.name} retry options`);
  }
});

test("listThreads and listThreadEvents read exactly their declared options", async () => {
  for (const [fn, extra] of [[listThreads, {}], [listThreadEvents, { threadId: "sthr_1" }]]) {
    const options = recorder({ ...connection, ...extra });
    const pages = fn(options.proxy);
    await pages.return();
    assert.deepEqual(sorted(options.read), sorted(declared(fn.name, { parameterOf: fn.name })), `${fn.name} options`);
  }
});

test("SseParser reads exactly its declared options", () => {
  const options = recorder({});
  new SseParser(options.proxy).free();
  assert.deepEqual(sorted(options.read), sorted(declared("SseParserOptions")));
});
