// A module worker that follows a thread with the package and reports what it sees.
// The handler is attached before the package loads: the package's entry instantiates the wasm
// with top-level await, and a message that arrives before `onmessage` is set would be lost.
const ready = import("./pkg/index.js");

self.onmessage = async ({ data }) => {
  const { ThreadStream } = await ready;
  const stream = new ThreadStream({ baseUrl: data.baseUrl, sessionId: data.sessionId, threadId: data.threadId, token: data.token });
  stream.onEvent((e) => self.postMessage({ kind: "event", id: e.id, type: e.type, text: typeof e.content === "string" ? e.content : "" }));
  stream.onError((e) => self.postMessage({ kind: "error", errorKind: e.kind, isError: e instanceof Error }));
  stream.onStateChange((s) => self.postMessage({ kind: "state", state: s }));
};
