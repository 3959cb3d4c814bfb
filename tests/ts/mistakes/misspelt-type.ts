// expect-error TS2345: a misspelt event type name
import { ThreadStream } from "threadtail";
declare const s: ThreadStream;
s.on("session.thread_craeted", (e) => console.log(e));
