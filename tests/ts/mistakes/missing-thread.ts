// expect-error TS2345: ThreadStream needs a threadId
import { ThreadStream } from "threadtail";
new ThreadStream({ baseUrl: "/v1", sessionId: "s" });
