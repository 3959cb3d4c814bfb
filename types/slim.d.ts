// Types of "threadtail/slim": the whole API, plus init() and initSync(). The input types are
// structural (no DOM or Node names), so they compile in Node-only, browser-only and mixed
// projects without skipLibCheck; a DOM `URL`, `Response` or `Uint8Array`, Node's `URL`,
// undici's `Response` or a `Buffer` all fit.
export * from "./index.js";

/** A URL object (`URL`, `Location`): fetched. */
export interface UrlLike {
  readonly href: string;
}

/** A fetch `Response` with the wasm as its body: its status and bytes are checked. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly url: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * A compiled `WebAssembly.Module` where the project's libraries declare one (the DOM lib does;
 * a Node-only project's es20xx lib and @types/node 20 do not, and then no value has this type).
 * The DOM declares it as an empty interface, which any value would fit: `object` at least
 * keeps numbers and booleans out.
 */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: abstract new (...args: any[]) => infer M } }
  ? M & object
  : never;

/** The wasm's bytes. */
export type WasmBytes = ArrayBuffer | ArrayBufferView;

/** What init() loads from: a URL (string or object), a Response, the bytes or a compiled module. */
export type InitInput = string | UrlLike | ResponseLike | WasmBytes | WasmModule;

/**
 * Loads the wasm; the API works once the promise has resolved. Without an argument, fetches
 * `threadtail_bg.wasm` next to this module (`new URL("./threadtail_bg.wasm", import.meta.url)`;
 * in Node, reads that file). Idempotent: every call returns the same promise (later inputs are
 * ignored) until a load fails, which may be retried. Rejects with a `ThreadtailError` of kind
 * `"wasm_load"` that names the fix when the file is missing or is not WebAssembly.
 */
export function init(input?: InitInput | PromiseLike<InitInput>): Promise<void>;

/** Instantiates the wasm synchronously from its bytes or a compiled module. A no-op once loaded. */
export function initSync(input: WasmBytes | WasmModule): void;
