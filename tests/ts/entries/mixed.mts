// A project with both the DOM lib and @types/node (Next.js, Vite SSR, Electron): compiles
// without skipLibCheck.
import { readFileSync } from "node:fs";
import { ThreadStream } from "threadtail";
import { init, initSync } from "threadtail/slim";
import * as inline from "threadtail/inline";

await init(new URL("./threadtail_bg.wasm", import.meta.url));
await init(await WebAssembly.compile(readFileSync("threadtail_bg.wasm")));
await init(fetch("/assets/threadtail_bg.wasm"));
initSync(readFileSync("threadtail_bg.wasm"));
new ThreadStream({ baseUrl: "/v1", sessionId: "s", threadId: "t", token: "k" }).close();
new inline.SseParser().end();

// The JavaScript-only entries: the session model and the shared stream.
import { createSessionModel } from "threadtail/model";
import { SharedThreadStream } from "threadtail/tabs";
const model = createSessionModel({ maxTimelineEntries: 100 });
const shared = new SharedThreadStream({ baseUrl: "https://example.test/v1", sessionId: "s", threadId: "t", token: "k", persist: true });
const detachShared = model.attach(shared);
shared.onEvent((event, meta) => meta.cached === true && event.type.length > 0);
detachShared();
