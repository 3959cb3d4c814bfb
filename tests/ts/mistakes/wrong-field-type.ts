// expect-error TS2322: a field used with the wrong type
import { ThreadStream } from "threadtail";
declare const s: ThreadStream;
s.on("agent.thread_message_received", (e) => {
  const n: number = e.is_error;
  console.log(n);
});
