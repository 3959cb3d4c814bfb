// Uses the package as an application would; must compile with `tsc --noEmit` (strict).
import {
  ThreadStream,
  SessionStream,
  SseParser,
  ThreadtailError,
  listThreads,
  listThreadEvents,
  type ThreadEvent,
  type Thread,
  type ErrorKind,
  type StreamState,
} from "threadtail";

export async function follow(token: string, signal: AbortSignal): Promise<string> {
  const stream = new ThreadStream({
    baseUrl: "https://api.example.com/api/v1/cloud",
    sessionId: "sess_1",
    threadId: "sthr_1",
    token: async ({ refresh }) => (refresh ? token + "!" : token),
    headers: { "x-extra": "1" },
    types: ["session.thread_created", "agent.thread_message_received"],
    lastEventId: "evt_1",
    transport: "fetch",
    retry: { initialDelayMs: 1000, maxDelayMs: 30000, maxAttempts: Infinity },
    idleTimeoutMs: 45000,
    maxEventBytes: 8 * 1024 * 1024,
    signal,
    history: "backfill",
  });
  const off = stream.on("session.thread_created", (e) => {
    const parent: string | undefined = e.parent_thread_id;
    const version: number | undefined = e.agent_version;
    console.log(parent, version, e.role === "child");
  });
  stream.on("agent.thread_message_received", (e, meta) => {
    const failed: boolean | undefined = e.is_error;
    console.log(failed, e.direction, e.from_session_thread_id, meta.update);
  });
  stream.on("session.thread_status_idle", (e) => {
    if (e.stop_reason?.type === "requires_action") console.log(e.stop_reason.event_ids);
  });
  stream.onEvent((e: ThreadEvent) => {
    switch (e.type) {
      case "agent.message":
        console.log(e.content);
        break;
      case "agent.tool_use":
        console.log(e.name, e.input);
        break;
      default:
        console.log(e.type, e.id);
    }
  });
  stream.onError((err) => {
    const kind: ErrorKind = err.kind;
    if (err instanceof ThreadtailError && err.status === 401) console.log(kind, err.retryable);
  });
  stream.onStateChange((s: StreamState) => console.log(s));
  stream.onReconnect(({ attempt, delayMs, reason }) => console.log(attempt, delayMs, reason));
  off();
  for await (const e of stream) {
    if (e.type === "session.thread_status_terminated") break;
  }
  stream.close();
  return stream.lastEventId + stream.state;
}

export async function overview(): Promise<Thread[]> {
  const threads: Thread[] = [];
  for await (const t of listThreads({ baseUrl: "/v1", sessionId: "sess_1", token: "t", limit: 50, statuses: ["running"] })) {
    threads.push(t);
    console.log(t.parent_thread_id === null ? "coordinator" : t.agent_name);
  }
  for await (const e of listThreadEvents({ baseUrl: "/v1", sessionId: "sess_1", threadId: "sthr_1", types: ["agent.message"] })) {
    console.log(e.type);
  }
  const session = new SessionStream({ baseUrl: "/v1", sessionId: "sess_1", transport: "eventsource" });
  session.on("session.deleted", () => session.close());
  return threads;
}

export function frames(bytes: Uint8Array): number {
  const parser = new SseParser({ maxEventBytes: 1024, onComment: (c: string) => console.log(c) });
  const events = parser.push(bytes);
  parser.push("data: x\n\n");
  parser.end();
  parser.reset();
  return events.length + (parser.retry ?? 0) + parser.lastEventId.length;
}
