// expect-error TS2561: an unknown option
import { ThreadStream } from "threadtail";
new ThreadStream({ baseUrl: "/v1", sessionId: "s", threadId: "t", tokn: "x" });
