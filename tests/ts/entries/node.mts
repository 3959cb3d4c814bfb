// A Node-only project (lib es2022, @types/node, no DOM), every entry: compiles without skipLibCheck.
import { readFileSync } from "node:fs";
import { ThreadStream, SseParser, ThreadtailError, type ErrorKind } from "threadtail";
import { init, initSync, type InitInput } from "threadtail/slim";
import * as inline from "threadtail/inline";

await init();
await init(readFileSync(new URL("./threadtail_bg.wasm", import.meta.url)));
await init(new URL("file:///srv/threadtail_bg.wasm"));
await init("https://example.test/threadtail_bg.wasm");
await init(fetch("https://example.test/threadtail_bg.wasm"));
initSync(readFileSync("threadtail_bg.wasm"));
const input: InitInput = new ArrayBuffer(8);
// @ts-expect-error a number is not a place to load the wasm from
await init(42);

const kind: ErrorKind = "wasm_load";
const stream = new ThreadStream({ baseUrl: "https://example.test/v1", sessionId: "s", threadId: "t", token: "k" });
stream.onError((e) => e instanceof ThreadtailError && e.kind === kind);
new SseParser().push("data: x\n\n");
new inline.SseParser().push(new Uint8Array([100, 97, 116, 97]));
export { input };

// The JavaScript-only entries: the session model and the shared stream.
import { createSessionModel } from "threadtail/model";
import { SharedThreadStream } from "threadtail/tabs";
const model = createSessionModel({ maxTimelineEntries: 100 });
const shared = new SharedThreadStream({ baseUrl: "https://example.test/v1", sessionId: "s", threadId: "t", token: "k", persist: true });
const detachShared = model.attach(shared);
shared.onEvent((event, meta) => meta.cached === true && event.type.length > 0);
detachShared();
