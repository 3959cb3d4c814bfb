// Uses "threadtail/model" as an application would; must compile with `tsc --noEmit` (strict).
// Compiled by tests/js/model.test.mjs ("the declarations compile with a usage file").
import { SessionStream, ThreadStream, listThreads } from "threadtail";
import {
  createSessionModel,
  selectThread,
  selectChildren,
  isEnded,
  entryEvents,
  eventGroup,
  EVENT_GROUPS,
  SessionModel,
  type SessionSnapshot,
  type ThreadSnapshot,
  type TimelineEntry,
} from "threadtail/model";

/** What a renderer does with an entry: every kind narrowed. */
export function describe(entry: TimelineEntry): string {
  switch (entry.kind) {
    case "event":
      return `${eventGroup(entry.event.type)} ${entry.event.type}${entry.preview ? ` (${entry.preview}${entry.previewDropped ? "…" : ""})` : ""}`;
    case "tool": {
      const name = entry.use && "name" in entry.use ? String(entry.use.name) : "tool";
      return `${name}: ${entry.state}${entry.result?.is_error ? " (error)" : ""}`;
    }
    case "thread_message":
      return `${entry.side}: ${entry.sent?.to_agent_name ?? ""} ${entry.received ? "✓" : "…"}`;
    case "error":
      return "unreadable event";
  }
}

export async function follow(baseUrl: string, sessionId: string, token: string): Promise<() => void> {
  const model = createSessionModel({ maxTimelineEntries: 2000, maxErrors: 10, maxThreads: 200, maxEventTypes: 64, maxPreviewLength: 4096 });
  for await (const t of listThreads({ baseUrl, sessionId, token })) model.pushThread(t);
  const stream = new SessionStream({ baseUrl, sessionId, token });
  const detach: () => void = model.attach(stream);
  const thread = new ThreadStream({ baseUrl, sessionId, threadId: "sthr_1", token, types: [...EVENT_GROUPS.tool] });
  model.attach(thread, { threadId: "sthr_1" });

  // React's useSyncExternalStore takes these two as they are (bound).
  const subscribe: (onChange: () => void) => () => void = model.subscribe;
  const getSnapshot: () => SessionSnapshot = model.getSnapshot;
  const stop = subscribe(() => {
    const s = getSnapshot();
    const t: ThreadSnapshot | undefined = selectThread(s, "sthr_1") ?? model.getThread("sthr_1");
    if (t && !isEnded(t)) t.timeline.map(describe).forEach((line) => line.length);
    for (const root of selectChildren(s, null)) root.childIds.forEach((id) => s.threads[id]?.status);
    const n: number = s.counts.events + s.counts.byType["agent.message"]! + (s.threads["x"]?.dropped ?? 0);
    const bounded: number = s.counts.otherTypes + s.counts.droppedThreads;
    void bounded;
    void n;
    const ids: string[] = s.threadIds.flatMap((id) => s.threads[id]!.timeline.flatMap(entryEvents)).map((e) => e.type);
    void ids;
    s.errors.forEach((e) => e.kind + e.message + (e.threadId ?? ""));
    const refused = s.errors.filter((e) => e.source === "model" && e.kind === "parent_cycle").length;
    void refused;
    if (s.session.deleted || s.session.status === "deleted") stop();
  });
  model.push({ type: "agent.message", id: "evt_1", session_thread_id: "sthr_1", content: "hi" });
  model.push({ type: "some.new_type", anything: 1 }, { threadId: "sthr_1", update: false });
  model.pushError(new Error("x"), { threadId: "sthr_1" });
  model.flush();
  const own = new SessionModel();
  own.detach();
  return () => {
    detach();
    model.detach(thread);
    stop();
  };
}
