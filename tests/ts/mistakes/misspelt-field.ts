// expect-error TS2551: a misspelt field on a typed event
import { ThreadStream } from "threadtail";
declare const s: ThreadStream;
s.on("session.thread_created", (e) => console.log(e.parent_thread));
