// Starts the reference server (target/debug/threadtail-devserver) on a free port and talks to
// its /_control API. Every test file starts its own server(s) (`useServers` registers the hooks).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { before, after, beforeEach } from "node:test";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const BIN = `${ROOT}target/debug/threadtail-devserver`;
export const TOKEN = "test-token-0123";
export const pkgUrl = new URL("../../../pkg/node.js", import.meta.url).href;

/** Starts a devserver; resolves to a handle with `url`, `base` (the /v1 root) and helpers. */
export async function startServer(args = []) {
  if (!existsSync(BIN)) {
    throw new Error(`${BIN} is missing: run cargo build -p threadtail-devserver`);
  }
  const child = spawn(
    BIN,
    ["--addr", "127.0.0.1:0", "--token", TOKEN, "--scenario", "empty", ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    if (stderr.length > 20000) stderr = stderr.slice(-10000);
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devserver did not start: ${stderr}`)), 10000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`devserver exited (${code}): ${stderr}`));
    });
    lines.once("line", (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first line: ${line}`));
    });
  });
  lines.on("line", () => {}); // keep draining stdout
  return new Server(child, url);
}

/**
 * The hooks of a test file: starts one server per argument list before its tests (handing them
 * to `started`), closes the file's streams and resets the servers before each test, and closes
 * and stops everything after. Returns the array to push the file's streams to.
 */
export function useServers(argLists, started) {
  let servers = [];
  const streams = [];
  before(async () => {
    servers = await Promise.all(argLists.map((args) => startServer(args)));
    started(servers);
  });
  after(async () => {
    for (const s of streams) s.close();
    await Promise.all(servers.map((s) => s.stop()));
  });
  beforeEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await Promise.all(servers.map((s) => s.reset()));
  });
  return streams;
}

export class Server {
  constructor(child, url) {
    this.child = child;
    this.url = url;
    this.base = `${url}/v1`;
  }

  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(t);
  }

  async control(method, path, body) {
    const res = await fetch(`${this.url}/_control${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  reset() {
    return this.control("POST", "/reset");
  }

  /** A session with one coordinator thread; returns { sessionId, threadId }. */
  async thread(sessionId = `sess_${Math.random().toString(16).slice(2)}`, opts = {}) {
    await this.control("POST", "/sessions", { session_id: sessionId });
    const t = await this.control("POST", `/sessions/${sessionId}/threads`, {
      agent_name: "Coordinator",
      parent_thread_id: null,
      ...opts,
    });
    return { sessionId, threadId: t.id };
  }

  async childThread(sessionId, parentId, name = "Research Agent") {
    const t = await this.control("POST", `/sessions/${sessionId}/threads`, {
      agent_name: name,
      parent_thread_id: parentId,
    });
    return t.id;
  }

  event(sessionId, threadId, event) {
    return this.control("POST", `/sessions/${sessionId}/threads/${threadId}/events`, event);
  }

  batch(sessionId, threadId, body) {
    return this.control("POST", `/sessions/${sessionId}/threads/${threadId}/events/batch`, body);
  }

  faults(body) {
    return body ? this.control("POST", "/faults", body) : this.control("DELETE", "/faults");
  }

  async requests() {
    const r = await this.control("GET", "/requests");
    return Array.isArray(r) ? r : r.requests;
  }

  clearRequests() {
    return this.control("DELETE", "/requests");
  }

  status() {
    return this.control("GET", "/status");
  }

  /** Stream requests (the two SSE routes) in the request log, oldest first. */
  async streamRequests() {
    return (await this.requests()).filter((r) => r.path.endsWith("/stream"));
  }
}

/** Polls `fn` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 5, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Records everything a stream reports. */
export function record(stream) {
  const r = { events: [], metas: [], errors: [], states: [], reconnects: [] };
  stream.onEvent((e, meta) => {
    r.events.push(e);
    r.metas.push(meta);
  });
  stream.onError((e) => r.errors.push(e));
  stream.onStateChange((s) => r.states.push(s));
  stream.onReconnect((i) => r.reconnects.push({ ...i, at: Date.now() }));
  return r;
}

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
export function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fast retry options for tests. */
export const FAST = { initialDelayMs: 20, maxDelayMs: 200 };
