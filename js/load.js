// Loading the wasm for the "threadtail" and "threadtail/slim" entries: fetches it (or takes a
// Response, the bytes or a compiled module), checks that WebAssembly came back, and
// instantiates it (a Response served as application/wasm is compiled while it downloads).
// When the file is missing, the error names the fix for the setup that lost it (README "Using
// it with your bundler"). scripts/package.mjs copies this file into pkg/ and
// points the "./glue.js" import at wasm-bindgen's snippet folder.
import initWasm, { initSync as initWasmSync, isLoaded } from "./threadtail.js";
import { ThreadtailError } from "./glue.js";

const WASM_FILE = "threadtail_bg.wasm";
// Every WebAssembly binary starts with "\0asm".
const MAGIC = [0x00, 0x61, 0x73, 0x6d];
// Vite 7 and older pre-bundle dependencies in the dev server (node_modules/.vite/deps/) and
// leave `new URL("./threadtail_bg.wasm", import.meta.url)` pointing into that folder, where the
// server answers with index.html. The same dev server serves the package's own folder: from
// .vite/deps/, two levels up. Measured zero-config with Vite 7 dev (tests/bundlers/).
const VITE_DEPS_WASM = /\/node_modules\/\.vite\/deps\/threadtail_bg\.wasm(?:[?#]|$)/;
const VITE_DEPS_FALLBACK = "../../threadtail/" + WASM_FILE;

const HINT_MISSING =
  'With esbuild or Rollup (they do not copy the file), import "threadtail/inline" (the wasm inside the JavaScript), ' +
  'or import "threadtail/slim" and call init() with the URL where you serve threadtail_bg.wasm.';
const HINT_HTML =
  'In Vite\'s dev server (Vite 7 and older), add optimizeDeps: { exclude: ["threadtail"] } to vite.config, ' +
  'or import "threadtail/inline"; elsewhere, import "threadtail/slim" and call init() with the URL where you serve threadtail_bg.wasm.';

// When the app chose the location (an input to init() of threadtail/slim), the bundler hints
// above would name what the app already did: the fix is the location it gave.
const HINT_GIVEN =
  "Check the location given to init(): it must serve threadtail_bg.wasm as the package ships it; or pass the wasm's bytes.";
const hintsFor = (given) => (given ? { missing: HINT_GIVEN, html: HINT_GIVEN } : { missing: HINT_MISSING, html: HINT_HTML });

function loadError(message, status) {
  const props = { kind: "wasm_load", retryable: false };
  if (status !== undefined) props.status = status;
  return new ThreadtailError("threadtail: " + message, props);
}

const hex = (bytes) => Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");

function checkBytes(bytes, what, hints, contentType) {
  if (bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b)) return bytes;
  // "<" first, or an HTML content type: a server's fallback page (an SPA's index.html).
  if (bytes[0] === 0x3c || /^text\/html/i.test(contentType || "")) {
    throw loadError(`${what}: an HTML page came back, not the WebAssembly file (a server's fallback page: the file is not served there). ${hints.html}`);
  }
  throw loadError(
    `${what}: not WebAssembly (it starts with ${hex(bytes) || "nothing"}, not 00 61 73 6d). ` +
    `Serve threadtail_bg.wasm as the package ships it. ${hints.missing}`,
  );
}

function bytesOf(source) {
  return source instanceof ArrayBuffer
    ? new Uint8Array(source)
    : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
}

/**
 * What to instantiate from a Response: the Response itself when it is a native one that says it
 * is WebAssembly, so that the engine compiles it while it downloads (and Chromium keeps the
 * compiled code for the next load); else its bytes, read and checked first, so that a wrong
 * answer (a 404, an HTML fallback page) gets an error that names the fix.
 */
async function responseSource(response, what, hints) {
  const native = typeof Response === "function" && response instanceof Response;
  // Exactly, as wasm-bindgen's loader and Node compare it: with parameters or another case,
  // they would fall back to reading a body the compiler already consumed.
  const wasmType = response.headers && response.headers.get("content-type") === "application/wasm";
  if (response.ok && native && wasmType && typeof WebAssembly.instantiateStreaming === "function") return response;
  return responseBytes(response, what, hints);
}

/**
 * What instantiating `what` threw, as a `wasm_load` error where the file or its download is at
 * fault (`streamed`: compiled as it downloaded, see `responseSource`); anything else as is.
 */
function instantiateError(e, what, streamed) {
  const served = streamed ? "served as application/wasm, but " : "";
  if (e instanceof WebAssembly.CompileError) {
    return loadError(`${what}: ${served}not WebAssembly that compiles (${e.message}): a truncated or altered file. Serve threadtail_bg.wasm as the package ships it.`);
  }
  if (e instanceof WebAssembly.LinkError) {
    return loadError(`${what}: WebAssembly of another threadtail version (${e.message}). Serve threadtail_bg.wasm as the package ships it.`);
  }
  if (streamed) return readError(what, e);
  return e;
}

/** Reading an answer's body failed: the connection dropped, or the body was read before. */
const readError = (what, e) => loadError(`could not read the answer of ${what} (${e && e.message})`);

/**
 * `fetch(input)`; no answer at all (a network or CORS failure, or a relative URL where no
 * document gives it a base: Node, some workers) is a `wasm_load` error ending in `advice`. Not a
 * missing file.
 */
async function fetchResponse(input, what, advice) {
  try {
    return await fetch(input);
  } catch (e) {
    throw loadError(`could not fetch ${what} (${e && e.message}): ${advice}`);
  }
}

async function responseBytes(response, what, hints) {
  if (!response.ok) {
    throw loadError(`${what} answered HTTP ${response.status}, not the WebAssembly file: it is not served there. ${hints.missing}`, response.status);
  }
  let body;
  try {
    body = await response.arrayBuffer();
  } catch (e) {
    throw readError(what, e);
  }
  return checkBytes(new Uint8Array(body), what, hints, response.headers && response.headers.get("content-type"));
}

async function fetchSource(url, hints) {
  const href = String(url);
  if (href.startsWith("file:")) {
    // Node (and Node-like runtimes): fetch() takes no file: URL. getBuiltinModule keeps
    // "node:fs" out of sight of bundlers that build this file for browsers.
    const fs = globalThis.process?.getBuiltinModule?.("fs");
    if (!fs) throw loadError(`cannot read ${href} here: pass the bytes to init() instead`);
    let bytes;
    try {
      bytes = await fs.promises.readFile(new URL(href));
    } catch (e) {
      throw loadError(`could not read ${href} (${e && e.message}): pass the wasm's bytes or URL to init()`);
    }
    return checkBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), href, hints);
  }
  const advice = "check the network and CORS, give an absolute URL, or pass the wasm's bytes";
  return responseSource(await fetchResponse(url, href, advice), href, hints);
}

async function fromUrl(url, hints) {
  try {
    return await fetchSource(url, hints);
  } catch (e) {
    if (!VITE_DEPS_WASM.test(String(url))) throw e;
    try {
      return await fetchSource(new URL(VITE_DEPS_FALLBACK, url), hints);
    } catch {
      throw e;
    }
  }
}

// By shape, as types/slim.d.ts declares them: a URL or Response of another realm or library
// (a Location, undici's Response) is one too.
const isUrl = (x) => typeof x === "string" || (x != null && typeof x === "object" && typeof x.href === "string");
const isRequest = (x) => typeof Request === "function" && x instanceof Request;
const isResponse = (x) =>
  x != null && typeof x === "object" && typeof x.arrayBuffer === "function" && typeof x.ok === "boolean";
const isModule = (x) => x instanceof WebAssembly.Module;
const isBytes = (x) => x instanceof ArrayBuffer || ArrayBuffer.isView(x);

/**
 * Loads and instantiates the wasm once; a no-op when it is already loaded. `given`: the app
 * chose the input (init() of threadtail/slim with an argument), so the errors name it, not the
 * bundler.
 */
export async function loadWasm(input, { given = false } = {}) {
  if (isLoaded()) return;
  const hints = hintsFor(given);
  try {
    input = await input;
  } catch (e) {
    throw loadError(`the promise given to init() rejected (${e && e.message})`);
  }
  let source, what;
  if (isRequest(input)) {
    what = input.url;
    const response = await fetchResponse(input, what, "check the network and CORS, or pass the wasm's bytes");
    source = await responseSource(response, what, hints);
  } else if (isUrl(input)) {
    what = typeof input === "string" ? input : input.href;
    source = await fromUrl(what, hints);
  } else if (isResponse(input)) {
    what = input.url || "the Response given to init()";
    source = await responseSource(input, what, hints);
  } else if (isModule(input)) source = input;
  else if (isBytes(input)) source = checkBytes(bytesOf(input), (what = "the bytes given to init()"), hints);
  else throw invalidInput();
  if (isLoaded()) return;
  try {
    await initWasm({ module_or_path: source });
  } catch (e) {
    // A Response compiled as it downloads (see `responseSource`) is checked only here.
    const streamed = !isBytes(source) && !isModule(source);
    throw instantiateError(e, streamed ? source.url || what : what || "the WebAssembly.Module given to init()", streamed);
  }
}

/** The synchronous load: the bytes or a compiled module only. */
export function loadWasmSync(input) {
  if (isLoaded()) return;
  let source;
  if (isModule(input)) source = input;
  else if (isBytes(input)) source = checkBytes(bytesOf(input), "the bytes given to initSync()", hintsFor(true));
  else throw invalidInput("initSync() takes the wasm's bytes or a WebAssembly.Module");
  try {
    initWasmSync({ module: source });
  } catch (e) {
    throw instantiateError(e, isModule(source) ? "the WebAssembly.Module given to initSync()" : "the bytes given to initSync()", false);
  }
}

function invalidInput(message = "init() takes a URL, a Response (or a promise of one), the wasm's bytes or a WebAssembly.Module") {
  return new ThreadtailError("threadtail: " + message, { kind: "invalid_argument", retryable: false });
}

/**
 * In a dedicated worker, holds the `message` events that arrive while the wasm loads: a worker
 * that imports the package statically sets `onmessage` only after the package's top-level
 * await, and the browser would deliver a message sent at start to no listener. The capturing
 * listener (added before any of the worker's own code runs, so it runs first) stops them; once
 * loaded they are dispatched again, in order, in a later task (after the importing module has
 * run and set its handler). Returns the function that releases them.
 */
export function holdWorkerMessages() {
  const scope = globalThis;
  if (typeof DedicatedWorkerGlobalScope !== "function" || !(scope instanceof DedicatedWorkerGlobalScope)) {
    return () => {};
  }
  const held = [];
  const hold = (event) => {
    event.stopImmediatePropagation();
    held.push(event);
  };
  scope.addEventListener("message", hold, true);
  return () => {
    // Still holding until that task runs, so a message that comes in meanwhile keeps its place.
    setTimeout(() => {
      scope.removeEventListener("message", hold, true);
      for (const e of held) {
        scope.dispatchEvent(new MessageEvent("message", {
          data: e.data, origin: e.origin, lastEventId: e.lastEventId, source: e.source, ports: [...e.ports],
        }));
      }
    }, 0);
  };
}
