// A browser-only project (DOM lib, no @types/node), every entry: compiles without skipLibCheck.
import { ThreadStream, ThreadtailError } from "threadtail";
import { init, initSync } from "threadtail/slim";
import { SseParser } from "threadtail/inline";

await init();
await init(new URL("./threadtail_bg.wasm", import.meta.url));
await init("/assets/threadtail_bg.wasm");
await init(fetch("/assets/threadtail_bg.wasm"));
await init(await fetch("/assets/threadtail_bg.wasm"));
await init(await WebAssembly.compileStreaming(fetch("/assets/threadtail_bg.wasm")));
initSync(new Uint8Array(await (await fetch("/assets/threadtail_bg.wasm")).arrayBuffer()));
// @ts-expect-error a number is not a place to load the wasm from
await init(42);

const stream = new ThreadStream({ baseUrl: "/v1", sessionId: "s", threadId: "t", token: "k", signal: new AbortController().signal });
stream.onError((e) => e instanceof ThreadtailError && e.kind === "wasm_load");
new SseParser().push("data: x\n\n");

// The JavaScript-only entries: the session model and the shared stream.
import { createSessionModel } from "threadtail/model";
import { SharedThreadStream } from "threadtail/tabs";
const model = createSessionModel({ maxTimelineEntries: 100 });
const shared = new SharedThreadStream({ baseUrl: "https://example.test/v1", sessionId: "s", threadId: "t", token: "k", persist: true });
const detachShared = model.attach(shared);
shared.onEvent((event, meta) => meta.cached === true && event.type.length > 0);
detachShared();
