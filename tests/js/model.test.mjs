// threadtail/model (pkg/model.js, from js/model.js): the fold, snapshot identity, notification
// batching, and the model attached to real streams of the built package against the reference
// server. The declarations are compiled with a usage file (tests/ts/model-usage.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createSessionModel, SessionModel, selectThread, selectChildren, isEnded, entryEventIds, eventGroup, EVENT_GROUPS } from "../../pkg/model.js";
import * as tt from "../../pkg/node.js";
import { useServers, TOKEN, record, waitFor, sleep, FAST, ROOT } from "./helpers/server.mjs";

let server;
const streams = useServers([["--keepalive-ms", "1000"]], ([s]) => (server = s));

const T1 = "sthr_coordinator";
const T2 = "sthr_research";
const T3 = "sthr_review";
let n = 0;
/** An event of thread `tid` with a fresh id (or the given one). */
const ev = (tid, type, fields = {}) => ({ id: `evt_${String(++n).padStart(4, "0")}`, type, session_thread_id: tid, ...fields });
const created = (tid, parent, name, fields = {}) =>
  ev(tid, "session.thread_created", { parent_thread_id: parent, agent_name: name, role: "child", ...fields });

/** A model fed `events` and published. */
function folded(events, options) {
  const m = createSessionModel(options);
  for (const e of events) m.push(e);
  m.flush();
  return m;
}
const types = (thread) => thread.timeline.map((e) => (e.kind === "event" ? e.event.type : e.kind));

// ---- the fold --------------------------------------------------------------------------------

test("fold: the thread tree from thread_created (parent, children, agent, role, tool use that created it)", () => {
  const m = folded([
    created(T2, T1, "Research Agent", { agent_id: "agent_r", created_by_tool_use_id: "toolu_1", created_at: "2026-06-15T08:01:00.000Z" }),
    created(T3, T1, "Review Agent"),
  ]);
  const s = m.getSnapshot();
  assert.deepEqual(s.threadIds, [T2, T1, T3]);
  assert.deepEqual(s.rootIds, [T1]);
  assert.deepEqual(s.threads[T1].childIds, [T2, T3]);
  assert.equal(s.threads[T1].known, false, "the parent is a placeholder until it is listed or created");
  const t = s.threads[T2];
  assert.equal(t.parentId, T1);
  assert.equal(t.agentName, "Research Agent");
  assert.equal(t.agentId, "agent_r");
  assert.equal(t.role, "child");
  assert.equal(t.createdByToolUseId, "toolu_1");
  assert.equal(t.createdAt, "2026-06-15T08:01:00.000Z");
  assert.equal(t.known, true);
  assert.deepEqual(selectChildren(s, T1).map((c) => c.agentName), ["Research Agent", "Review Agent"]);
  assert.deepEqual(selectChildren(s, null).map((c) => c.id), [T1]);
  assert.equal(selectThread(s, "sthr_nope"), undefined);
  assert.equal(selectThread(s, "__proto__"), undefined, "threads has no prototype to leak");
});

test("fold: out of order across threads: events before thread_created make a placeholder that it fills in", () => {
  const m = createSessionModel();
  m.push(ev(T2, "agent.message", { content: "early" }));
  m.push(ev(T2, "session.thread_status_running", { created_at: "2026-06-15T08:02:00Z" }));
  m.flush();
  let t = m.getThread(T2);
  assert.equal(t.known, false);
  assert.equal(t.parentId, null);
  assert.equal(t.status, "running");
  assert.deepEqual(m.getSnapshot().rootIds, [T2]);
  m.push(created(T2, T1, "Research Agent", { created_at: "2026-06-15T08:01:00Z" }));
  m.push(ev(T1, "agent.message", { content: "the coordinator, late" }));
  m.flush();
  t = m.getThread(T2);
  assert.equal(t.known, true);
  assert.equal(t.parentId, T1);
  assert.equal(t.agentName, "Research Agent");
  assert.equal(t.status, "running", "thread_created does not reset the status");
  assert.deepEqual(types(t), ["agent.message", "session.thread_status_running", "session.thread_created"]);
  assert.deepEqual(m.getSnapshot().rootIds, [T1]);
  assert.deepEqual(m.getThread(T1).childIds, [T2]);
});

test("fold: statuses and stop reasons; terminated ends a thread; an older status does not move it back", () => {
  const m = createSessionModel();
  const at = (s) => `2026-06-15T08:00:${s}Z`;
  m.push(created(T2, T1, "Research Agent"));
  m.push(ev(T2, "session.thread_status_running", { created_at: at("01.000") }));
  m.flush();
  assert.equal(m.getThread(T2).status, "running");
  m.push(ev(T2, "session.thread_status_idle", { created_at: at("02.000"), stop_reason: { type: "requires_action", event_ids: ["evt_x"] } }));
  m.flush();
  assert.equal(m.getThread(T2).status, "idle");
  assert.deepEqual(m.getThread(T2).stopReason, { type: "requires_action", event_ids: ["evt_x"] });
  m.push(ev(T2, "session.thread_status_rescheduled", { created_at: at("03.000") }));
  m.flush();
  assert.equal(m.getThread(T2).status, "rescheduling");
  assert.equal(m.getThread(T2).stopReason, null);
  // a late, older event (fraction digits and offsets differ: compared as instants)
  m.push(ev(T2, "session.thread_status_running", { created_at: "2026-06-15T09:00:02.5+01:00" }));
  m.flush();
  assert.equal(m.getThread(T2).status, "rescheduling");
  assert.equal(m.getThread(T2).timeline.length, 5, "it is still in the timeline");
  m.push(ev(T2, "session.thread_status_terminated", { created_at: at("04.000000001"), stop_reason: { type: "archive" } }));
  m.flush();
  const t = m.getThread(T2);
  assert.equal(t.status, "terminated");
  assert.deepEqual(t.stopReason, { type: "archive" });
  assert.equal(isEnded(t), true);
  assert.equal(isEnded(m.getThread(T1)), false);
  // a listing older than the events changes nothing; a newer one wins
  m.pushThread({ id: T2, type: "session_thread", session_id: "s", parent_thread_id: T1, status: "idle", created_at: at("00.000"), updated_at: at("03.500") });
  m.flush();
  assert.equal(m.getThread(T2).status, "terminated");
  m.pushThread({ id: T2, type: "session_thread", session_id: "s", parent_thread_id: T1, status: "archived", stop_reason: null, created_at: at("00.000"), updated_at: at("09.000") });
  m.flush();
  assert.equal(m.getThread(T2).status, "archived");
  assert.equal(isEnded(m.getThread(T2)), true);
});

test("fold: a listing fills a thread (agent, role, status) and a replayed history does not move the status back", () => {
  const m = createSessionModel();
  m.pushThread({ id: T1, type: "session_thread", session_id: "s", parent_thread_id: null, agent: { id: "agent_c", name: "Coordinator" },
    role: "coordinator", status: "idle", stop_reason: { type: "end_turn" }, created_at: "2026-06-15T08:00:00Z", updated_at: "2026-06-15T08:10:00Z" });
  m.push(ev(T1, "session.thread_status_running", { created_at: "2026-06-15T08:05:00Z" }));
  m.flush();
  const t = m.getThread(T1);
  assert.equal(t.known, true);
  assert.equal(t.agentName, "Coordinator");
  assert.equal(t.agentId, "agent_c");
  assert.equal(t.role, "coordinator");
  assert.equal(t.status, "idle");
  assert.deepEqual(t.stopReason, { type: "end_turn" });
  m.push(ev(T1, "session.thread_status_running", { created_at: "2026-06-15T08:11:00Z" }));
  m.flush();
  assert.equal(m.getThread(T1).status, "running");
});

test("fold: meta.update replaces the entry it updates, in place; a known id without the flag is not shown twice", () => {
  const m = createSessionModel();
  const queued = ev(T1, "user.message", { content: "hi", processed_at: null });
  m.push(queued);
  m.push(ev(T1, "agent.message", { content: "answer" }));
  m.flush();
  const before = m.getThread(T1);
  const processed = { ...queued, processed_at: "2026-06-15T08:00:01Z" };
  m.push(processed, { update: true });
  m.flush();
  const after = m.getThread(T1);
  assert.equal(after.timeline.length, 2);
  assert.equal(after.timeline[0].event, processed);
  assert.equal(after.timeline[0].key, queued.id);
  assert.equal(after.timeline[1], before.timeline[1], "the other entry keeps its identity");
  assert.equal(after.eventCount, 2);
  const c = m.getSnapshot().counts;
  assert.equal(c.events, 2);
  assert.equal(c.updates, 1);
  // the same id again from a second, overlapping source: replaced, not appended
  m.push({ ...processed });
  m.flush();
  assert.equal(m.getThread(T1).timeline.length, 2);
  assert.equal(m.getSnapshot().counts.updates, 2);
  // a status update re-applies its status
  const idle = ev(T1, "session.thread_status_idle", { stop_reason: { type: "end_turn" } });
  m.push(idle);
  m.push({ ...idle, stop_reason: { type: "budget_reached" } }, { update: true });
  m.flush();
  assert.deepEqual(m.getThread(T1).stopReason, { type: "budget_reached" });
  assert.equal(m.getThread(T1).timeline.length, 3);
});

test("fold: unknown event types are kept in the timeline and counted, never dropped", () => {
  const odd = ev(T1, "agent.brand_new_thing", { payload: { x: 1 } });
  const m = folded([odd, { type: "session.surprise", session_id: "sess_1" }, { type: 42 }, null, "not an event"]);
  assert.equal(m.getThread(T1).timeline[0].event, odd);
  assert.equal(m.getSnapshot().session.timeline[0].event.type, "session.surprise");
  assert.equal(m.getSnapshot().session.id, "sess_1");
  assert.equal(m.getSnapshot().counts.unknown, 3, "a type that is not a string is an unknown type too");
  assert.equal(m.getSnapshot().counts.byType["agent.brand_new_thing"], 1);
  assert.equal(eventGroup("agent.brand_new_thing"), "other");
  assert.equal(eventGroup("user.custom_tool_result"), "tool");
  assert.equal(eventGroup("agent.thread_message_received"), "thread_message");
  assert.ok(Object.isFrozen(EVENT_GROUPS.status) && EVENT_GROUPS.status.includes("session.deleted"));
});

test("fold: a tool use with its result by tool use id, whichever comes first (built-in, MCP, custom, confirmation)", () => {
  const use = ev(T2, "agent.tool_use", { name: "web_search", input: { q: "x" } });
  const think = ev(T2, "agent.thinking", { content: "…" });
  const result = ev(T2, "agent.tool_result", { tool_use_id: use.id, content: "3 hits" });
  const mcpResult = ev(T2, "agent.mcp_tool_result", { mcp_tool_use_id: "evt_mcp", is_error: true });
  const mcpUse = { ...ev(T2, "agent.mcp_tool_use", { name: "fetch", mcp_server_name: "web" }), id: "evt_mcp" };
  const custom = ev(T2, "agent.custom_tool_use", { name: "deploy" });
  const deny = ev(T2, "user.tool_confirmation", { tool_use_id: custom.id, result: "deny" });
  const customResult = ev(T2, "user.custom_tool_result", { custom_tool_use_id: custom.id, content: "no" });
  const orphan = ev(T2, "user.tool_result", { tool_use_id: "evt_never" });
  const m = createSessionModel();
  for (const e of [use, think, result, mcpResult, mcpUse, custom, deny]) m.push(e);
  m.flush();
  let tl = m.getThread(T2).timeline;
  assert.deepEqual(tl.map((e) => e.kind), ["tool", "event", "tool", "tool"]);
  assert.equal(tl[0].use, use);
  assert.equal(tl[0].result, result);
  assert.equal(tl[0].state, "done");
  assert.equal(tl[0].toolUseId, use.id);
  assert.deepEqual(entryEventIds(tl[0]), [use.id, result.id]);
  assert.equal(tl[2].use, mcpUse, "the use fills the entry its result opened");
  assert.equal(tl[2].key, mcpResult.id);
  assert.equal(tl[2].state, "error");
  assert.deepEqual(entryEventIds(tl[2]), ["evt_mcp", mcpResult.id]);
  assert.equal(tl[3].confirmation, deny);
  assert.equal(tl[3].state, "denied");
  m.push(customResult);
  m.push(orphan);
  m.flush();
  tl = m.getThread(T2).timeline;
  assert.equal(tl[3].result, customResult);
  assert.equal(tl[3].state, "done");
  assert.deepEqual(entryEventIds(tl[3]), [custom.id, deny.id, customResult.id]);
  assert.equal(tl[4].use, null);
  assert.equal(tl[4].state, "done");
  // an update of the result replaces it inside its entry
  m.push({ ...result, content: "4 hits" }, { update: true });
  m.flush();
  assert.equal(m.getThread(T2).timeline[0].result.content, "4 hits");
  assert.equal(m.getThread(T2).timeline.length, 5);
});

test("fold: a message sent between threads pairs with its receipt in the other thread (first in, first out)", () => {
  const task = (i) => ({ direction: "coordinator_to_child", content: `task ${i}`, from_session_thread_id: T1, to_session_thread_id: T2 });
  const sent1 = ev(T1, "agent.thread_message_sent", { ...task(1), to_agent_name: "Research Agent" });
  const sent2 = ev(T1, "agent.thread_message_sent", task(2));
  const recv1 = ev(T2, "agent.thread_message_received", { ...task(1), from_agent_name: "Coordinator" });
  const report = { direction: "child_to_coordinator", content: "done", from_session_thread_id: T2, to_session_thread_id: T1 };
  const recvReport = ev(T1, "agent.thread_message_received", report); // the receipt first (another stream)
  const sentReport = ev(T2, "agent.thread_message_sent", report);
  const m = createSessionModel();
  for (const e of [sent1, sent2, recv1, recvReport]) m.push(e);
  m.flush();
  let t1 = m.getThread(T1).timeline;
  let t2 = m.getThread(T2).timeline;
  assert.deepEqual(t1.map((e) => [e.kind, e.side]), [["thread_message", "sent"], ["thread_message", "sent"], ["thread_message", "received"]]);
  assert.equal(t1[0].sent, sent1);
  assert.equal(t1[0].received, recv1, "the coordinator's entry shows the receipt");
  assert.equal(t1[1].received, null, "the second task is not received yet");
  assert.equal(t2[0].side, "received");
  assert.equal(t2[0].received, recv1);
  assert.equal(t2[0].sent, sent1, "the child's entry shows what was sent");
  assert.equal(t1[2].sent, null);
  m.push(sentReport);
  m.flush();
  t1 = m.getThread(T1).timeline;
  t2 = m.getThread(T2).timeline;
  assert.equal(t1[2].sent, sentReport);
  assert.equal(t2[1].received, recvReport);
  assert.deepEqual(entryEventIds(t2[1]), [sentReport.id], "an entry stands for its own thread's event");
  // an update of a paired side shows in both threads
  m.push({ ...sent1, content: "task 1 (edited)" }, { update: true });
  m.flush();
  assert.equal(m.getThread(T1).timeline[0].sent.content, "task 1 (edited)");
  assert.equal(m.getThread(T2).timeline[0].sent.content, "task 1 (edited)");
  // one side only (a ThreadStream of one thread): kept unpaired
  const alone = folded([ev(T1, "agent.thread_message_sent", task(9))]).getThread(T1).timeline[0];
  assert.equal(alone.received, null);
});

test("fold: the session's own events: status, session.error, session.deleted; errors recorded", () => {
  const m = createSessionModel();
  m.push({ id: "e1", type: "session.status_running", session_id: "sess_1" });
  m.push({ id: "e2", type: "session.status_idle", session_id: "sess_1", stop_reason: { type: "end_turn" } });
  m.flush();
  assert.equal(m.getSnapshot().session.status, "idle");
  assert.deepEqual(m.getSnapshot().session.stopReason, { type: "end_turn" });
  m.push(ev(T1, "session.error", { error: { type: "overloaded_error", message: "busy", retry_status: { type: "retrying" } } }));
  m.push({ id: "e3", type: "session.deleted", session_id: "sess_1" });
  m.push({ id: "e4", type: "session.status_running", session_id: "sess_1" });
  m.flush();
  const s = m.getSnapshot();
  assert.equal(s.session.deleted, true);
  assert.equal(s.session.status, "deleted", "nothing after the deletion revives it");
  assert.equal(s.errors.length, 1);
  assert.equal(s.errors[0].source, "session");
  assert.equal(s.errors[0].kind, "overloaded_error");
  assert.equal(s.errors[0].message, "busy");
  assert.equal(s.errors[0].threadId, T1);
  assert.equal(s.counts.errors, 1);
  assert.deepEqual(types(s.threads[T1]), ["session.error"]);
  assert.equal(s.session.timeline.length, 4);
});

test("fold: stream errors; a decode error goes into the timeline of the thread named on attach", () => {
  const m = createSessionModel({ maxErrors: 2 });
  const decode = Object.assign(new Error("bad json"), { kind: "decode", eventId: "evt_bad" });
  m.pushError(decode, { threadId: T1 });
  m.pushError(Object.assign(new Error("offline"), { kind: "network" }));
  m.pushError("a string");
  m.flush();
  const s = m.getSnapshot();
  assert.deepEqual(s.errors.map((e) => e.kind), ["network", "error"], "at most maxErrors kept");
  assert.equal(s.counts.errors, 3);
  assert.deepEqual(s.threads[T1].timeline.map((e) => e.kind), ["error"]);
  assert.equal(s.threads[T1].timeline[0].error, decode);
});

test("fold: previews: event_delta text joins its event_start, and the final event replaces it in place", () => {
  const start = ev(T1, "event_start", { event_id: "evt_final" });
  start.id = "evt_final";
  const m = createSessionModel();
  m.push(ev(T1, "user.message", { content: "q" }));
  m.push(start);
  m.push(ev(T1, "event_delta", { event_id: "evt_final", delta: { type: "content_delta", content: { type: "text", text: "Hel" } } }));
  m.push(ev(T1, "event_delta", { event_id: "evt_final", delta: { type: "content_delta", content: { type: "text", text: "lo" } } }));
  m.flush();
  assert.equal(m.getThread(T1).timeline.length, 2);
  assert.equal(m.getThread(T1).timeline[1].preview, "Hello");
  m.push({ id: "evt_final", type: "agent.message", session_thread_id: T1, content: "Hello." }, { update: true });
  m.flush();
  const last = m.getThread(T1).timeline[1];
  assert.equal(last.event.type, "agent.message");
  assert.equal(last.preview, undefined);
  assert.equal(last.key, "evt_final");
});

test("fold: memory is bounded: the oldest entries are dropped and counted, also within one batch", () => {
  const m = createSessionModel({ maxTimelineEntries: 3 });
  const events = Array.from({ length: 10 }, (_, i) => ev(T1, "agent.message", { content: String(i) }));
  for (const e of events) m.push(e); // one batch, larger than twice the bound
  m.flush();
  let t = m.getThread(T1);
  assert.deepEqual(t.timeline.map((e) => e.event.content), ["7", "8", "9"]);
  assert.equal(t.dropped, 7);
  assert.equal(t.eventCount, 10);
  // a dropped event's update is a new entry (its old place is gone); a kept one's is in place
  m.push({ ...events[0], content: "0'" }, { update: true });
  m.push({ ...events[8], content: "8'" }, { update: true });
  m.flush();
  t = m.getThread(T1);
  assert.deepEqual(t.timeline.map((e) => e.event.content), ["8'", "9", "0'"]);
  assert.equal(t.dropped, 8);
  // a tool result whose use was dropped opens an entry of its own
  const use = ev(T1, "agent.tool_use", { name: "x" });
  m.push(use);
  for (let i = 0; i < 3; i++) m.push(ev(T1, "agent.message", { content: `pad ${i}` }));
  m.flush();
  m.push(ev(T1, "agent.tool_result", { tool_use_id: use.id }));
  m.flush();
  const last = m.getThread(T1).timeline.at(-1);
  assert.equal(last.kind, "tool");
  assert.equal(last.use, null);
  assert.throws(() => createSessionModel({ maxTimelineEntries: 0 }), RangeError);
  for (const name of ["maxErrors", "maxThreads", "maxEventTypes", "maxPreviewLength"]) {
    assert.throws(() => createSessionModel({ [name]: 0 }), RangeError, name);
    assert.throws(() => createSessionModel({ [name]: 1.5 }), RangeError, name);
  }
});

// ---- hostile or malformed input ------------------------------------------------------------
// The server's strings are data: none reads Object.prototype, and no stream grows the model
// without bound. The time limits are several times what this code takes (and less than a
// tenth of what a quadratic fold took); the loops stop at the limit, so a regression fails
// quickly instead of hanging.

/** Runs `step(i)` for i < n unless `ms` pass first; returns how many ran. */
function within(ms, n, step) {
  const t0 = performance.now();
  let i = 0;
  for (; i < n && performance.now() - t0 < ms; i++) step(i);
  return i;
}

test("hostile: types, ids and thread ids named like Object.prototype's members read nothing from it", () => {
  const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
  const m = createSessionModel();
  for (const name of names) {
    m.push({ type: name, id: `type_${name}`, session_thread_id: T1 }); // as a type, in a thread
    m.push({ type: name, id: `session_${name}`, session_id: "sess_1" }); // as a type, of the session
    m.push({ type: "agent.message", id: name, session_thread_id: T2, content: "first" }); // as an id
    m.push({ type: "agent.message", id: `in_${name}`, session_thread_id: name }); // as a thread id
  }
  // a status-less thread stays so; no type makes a tool answer out of a field named "undefined"
  m.push({ type: "valueOf", id: "v", session_thread_id: T3, undefined: "u1" });
  m.push({ type: "constructor", id: "c", session_thread_id: T3, undefined: "u1" });
  m.flush();
  let s = m.getSnapshot();
  assert.equal(s.threads[T1].status, null, "a type named constructor is not a status");
  assert.equal(s.session.status, null);
  assert.deepEqual(s.threads[T1].timeline.map((e) => [e.kind, e.event.type]), names.map((n) => ["event", n]));
  assert.deepEqual(s.threads[T3].timeline.map((e) => e.kind), ["event", "event"]);
  assert.equal(s.counts.unknown, 2 * names.length + 2);
  // counts.byType: the server's types as own properties of a prototype-less object
  assert.equal(Object.getPrototypeOf(s.counts.byType), null);
  assert.equal(s.counts.byType.isPrototypeOf, undefined, "a type never seen reads nothing");
  for (const name of names) {
    assert.ok(Object.hasOwn(s.counts.byType, name), name);
    assert.equal(s.counts.byType[name], name === "valueOf" || name === "constructor" ? 3 : 2, name);
  }
  // as ids: deduplicated like any other; their keys are the ids
  for (const name of names) m.push({ type: "agent.message", id: name, session_thread_id: T2, content: "second" });
  m.flush();
  s = m.getSnapshot();
  assert.deepEqual(s.threads[T2].timeline.map((e) => [e.key, e.event.content]), names.map((n) => [n, "second"]));
  assert.equal(s.counts.updates, names.length);
  // as tool use ids: paired, whichever comes first
  m.push({ type: "agent.tool_use", id: "hasOwnProperty", session_thread_id: T3, name: "x" });
  m.push({ type: "agent.tool_result", id: "r1", tool_use_id: "hasOwnProperty", session_thread_id: T3 });
  m.push({ type: "agent.tool_result", id: "r2", tool_use_id: "__proto__", session_thread_id: T3 });
  m.push({ type: "agent.tool_use", id: "__proto__", session_thread_id: T3, name: "y" });
  m.flush();
  assert.deepEqual(m.getThread(T3).timeline.slice(2).map((e) => [e.kind, e.toolUseId, e.state, e.use?.name]),
    [["tool", "hasOwnProperty", "done", "x"], ["tool", "__proto__", "done", "y"]]);
  // as thread ids: own threads of their own, children, parents, message pairs
  m.push(created("toString", "constructor", "Child"));
  m.push({ type: "agent.thread_message_sent", id: "ms", session_thread_id: "__proto__", to_session_thread_id: "valueOf" });
  m.push({ type: "agent.thread_message_received", id: "mr", session_thread_id: "valueOf", from_session_thread_id: "__proto__" });
  m.flush();
  s = m.getSnapshot();
  for (const name of names) {
    assert.ok(Object.hasOwn(s.threads, name), name);
    assert.equal(selectThread(s, name).id, name);
    assert.ok(s.threadIds.includes(name), name);
  }
  assert.equal(Object.getPrototypeOf(s.threads), null);
  assert.equal(s.threads.toString.parentId, "constructor");
  assert.deepEqual(selectChildren(s, "constructor").map((t) => t.id), ["toString"]);
  assert.ok(!s.rootIds.includes("toString") && s.rootIds.includes("constructor"));
  assert.equal(s.threads.__proto__.timeline[1].received.id, "mr", "the message pairs with its receipt");
  assert.equal(s.threads.__proto__.timeline[0].event.id, "in___proto__");
});

test("hostile: 20,000 distinct event types published one by one: maxEventTypes named, the rest in otherTypes, in time", () => {
  const m = createSessionModel({ maxTimelineEntries: 10 });
  const n = 20_000;
  const done = within(5000, n, (i) => {
    m.push({ type: `x.${i}`, id: `e${i}`, session_thread_id: T1 });
    m.flush();
  });
  assert.equal(done, n, `only ${done} of ${n} events folded and published in 5 s`);
  let c = m.getSnapshot().counts;
  assert.equal(Object.keys(c.byType).length, 256, "the default maxEventTypes");
  assert.equal(c.byType["x.255"], 1);
  assert.equal(c.byType["x.256"], undefined);
  assert.equal(c.otherTypes, n - 256);
  assert.equal(c.unknown, n);
  assert.equal(c.events, n);
  // the known types are always named; a type that is not a string has no name
  m.push(ev(T1, "agent.message"));
  m.push({ type: "x.0", session_thread_id: T1 });
  m.push({ type: 7, session_thread_id: T1 });
  m.flush();
  c = m.getSnapshot().counts;
  assert.equal(c.byType["agent.message"], 1);
  assert.equal(c.byType["x.0"], 2);
  assert.equal(c.otherTypes, n - 256 + 1);
  const small = folded(["a", "b", "c", "a"].map((t) => ev(T1, t)), { maxEventTypes: 2 });
  assert.deepEqual({ ...small.getSnapshot().counts.byType }, { a: 2, b: 1 });
  assert.equal(small.getSnapshot().counts.otherTypes, 1);
});

test("hostile: messages whose other side never comes: nothing kept for them once their entries are trimmed", async () => {
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  // A ThreadStream of the coordinator: it sees what it sends, never the receipts.
  const m = createSessionModel({ maxTimelineEntries: 10 });
  gc();
  const before = process.memoryUsage().heapUsed;
  const n = 100_000;
  const done = within(5000, n, (i) => {
    m.push({ type: "agent.thread_message_sent", id: `s${i}`, session_thread_id: T1, to_session_thread_id: `sthr_child_${i}` });
    if (i % 100 === 99) m.flush();
  });
  m.flush();
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(done, n);
  assert.equal(m.getThread(T1).timeline.length, 10);
  assert.ok(grown < 8e6, `the heap grew by ${(grown / 1e6).toFixed(1)} MB for a model that shows 10 entries`);
  // the receipt of a kept message still pairs with it; that of a trimmed one stands alone
  m.push({ type: "agent.thread_message_received", id: "r_last", session_thread_id: `sthr_child_${n - 1}`, from_session_thread_id: T1 });
  m.push({ type: "agent.thread_message_received", id: "r_first", session_thread_id: "sthr_child_0", from_session_thread_id: T1 });
  m.flush();
  assert.equal(m.getThread(T1).timeline.at(-1).received.id, "r_last");
  assert.equal(m.getThread("sthr_child_0").timeline[0].sent, null);
});

test("hostile: at most 4,096 pairs of threads wait for a message's other side; the oldest pair is given up", () => {
  const m = createSessionModel({ maxTimelineEntries: 10_000, maxThreads: 10_000 });
  const pairs = 4097;
  for (let i = 0; i < pairs; i++) {
    m.push({ type: "agent.thread_message_sent", id: `s${i}`, session_thread_id: T1, to_session_thread_id: `sthr_${i}` });
  }
  m.push({ type: "agent.thread_message_received", id: "r0", session_thread_id: "sthr_0", from_session_thread_id: T1 });
  m.push({ type: "agent.thread_message_received", id: "r1", session_thread_id: "sthr_1", from_session_thread_id: T1 });
  m.push({ type: "agent.thread_message_received", id: "rN", session_thread_id: `sthr_${pairs - 1}`, from_session_thread_id: T1 });
  m.flush();
  const tl = m.getThread(T1).timeline;
  assert.equal(tl[0].received, null, "the oldest pair was given up");
  assert.equal(tl[1].received?.id, "r1");
  assert.equal(tl[pairs - 1].received?.id, "rN");
});

test("hostile: 20,000 thread ids: maxThreads kept (placeholders dropped first, counted), published in time", () => {
  const m = createSessionModel({ maxTimelineEntries: 1 });
  const n = 20_000;
  const done = within(5000, n, (i) => {
    m.push({ type: "agent.message", id: `e${i}`, session_thread_id: `sthr_${i}` });
    if (i % 10 === 0) m.flush();
  });
  m.flush();
  assert.equal(done, n, `only ${done} of ${n} events folded in 5 s`);
  const s = m.getSnapshot();
  assert.equal(s.threadIds.length, 1000, "the default maxThreads");
  assert.equal(s.threadIds[0], `sthr_${n - 1000}`, "the newest kept");
  assert.equal(Object.keys(s.threads).length, 1000);
  assert.equal(s.counts.droppedThreads, n - 1000);
  // the order of dropping: the oldest placeholder, then the oldest thread; the tree stays whole
  const t = createSessionModel({ maxThreads: 3 });
  t.pushThread({ id: "X", parent_thread_id: null });
  t.pushThread({ id: "A", parent_thread_id: null });
  t.pushThread({ id: "X", parent_thread_id: "A" });
  t.push(ev("P1", "agent.message")); // placeholders
  t.push(ev("P2", "agent.message"));
  t.flush();
  let ts = t.getSnapshot();
  assert.deepEqual(ts.threadIds, ["X", "A", "P2"], "the oldest placeholder went first");
  assert.deepEqual(ts.threads.A.childIds, ["X"]);
  t.pushThread({ id: "B", parent_thread_id: null });
  t.flush();
  ts = t.getSnapshot();
  assert.deepEqual(ts.threadIds, ["X", "A", "B"]);
  t.pushThread({ id: "C", parent_thread_id: "A" });
  t.flush();
  ts = t.getSnapshot();
  assert.deepEqual(ts.threadIds, ["A", "B", "C"], "no placeholder left: the oldest thread");
  assert.deepEqual(ts.threads.A.childIds, ["C"], "its parent no longer lists the dropped thread");
  t.pushThread({ id: "D", parent_thread_id: null });
  t.flush();
  ts = t.getSnapshot();
  assert.deepEqual(ts.threadIds, ["B", "C", "D"]);
  assert.equal(ts.threads.C.parentId, null, "the children of a dropped thread become roots");
  assert.deepEqual(ts.rootIds, ["B", "C", "D"]);
  assert.equal(ts.counts.droppedThreads, 4);
});

test("hostile: a parent link that would close a cycle is refused and recorded; walks up the tree end", () => {
  const m = createSessionModel();
  m.push(created("A", "B", "a"));
  m.push(created("B", "A", "b")); // A is B's child already
  m.push(created("C", "A", "c"));
  m.pushThread({ id: "B", parent_thread_id: "C" }); // C -> A -> B
  m.push(created("D", "D", "d")); // itself
  m.flush();
  const s = m.getSnapshot();
  assert.deepEqual(s.rootIds, ["B", "D"]);
  assert.equal(s.threads.A.parentId, "B");
  assert.equal(s.threads.B.parentId, null);
  assert.equal(s.threads.D.parentId, null);
  assert.deepEqual(s.threads.B.childIds, ["A"]);
  assert.deepEqual(s.threads.A.childIds, ["C"]);
  assert.equal(s.threads.B.known, true, "the rest of the event is folded");
  assert.deepEqual(s.errors.map((e) => [e.source, e.kind, e.threadId]), [["model", "parent_cycle", "B"], ["model", "parent_cycle", "B"], ["model", "parent_cycle", "D"]]);
  for (const id of s.threadIds) {
    let steps = 0;
    for (let p = id; p !== null; p = s.threads[p].parentId) assert.ok(++steps <= s.threadIds.length, `a walk up from ${id} ends`);
  }
});

test("previews: event_delta only extends an event_start, up to maxPreviewLength (the rest counted)", () => {
  const m = createSessionModel({ maxPreviewLength: 10 });
  const user = ev(T1, "user.message", { content: "q" });
  m.push(user);
  m.push(ev(T1, "event_delta", { event_id: user.id, delta: { content: { type: "text", text: "X" } } }));
  const start = { ...ev(T1, "event_start"), id: "evt_preview" };
  m.push(start);
  for (const text of ["Hello, ", "world", "!!!"]) m.push(ev(T1, "event_delta", { event_id: "evt_preview", delta: { content: { type: "text", text } } }));
  m.push(ev(T1, "event_delta", { event_id: "evt_preview", delta: { content: { type: "text", text: "more" } } }));
  m.flush();
  const tl = m.getThread(T1).timeline;
  assert.deepEqual(tl.map((e) => e.event.type), ["user.message", "event_delta", "event_start"]);
  assert.equal(tl[0].preview, undefined, "a user.message is no preview");
  assert.equal(tl[2].preview, "Hello, wor");
  assert.equal(tl[2].previewDropped, 9);
  // not half a surrogate pair
  const e = createSessionModel({ maxPreviewLength: 3 });
  e.push(start);
  e.push(ev(T1, "event_delta", { event_id: "evt_preview", delta: { content: { type: "text", text: "ab\u{1F600}" } } }));
  e.flush();
  assert.equal(e.getThread(T1).timeline[0].preview, "ab");
  assert.equal(e.getThread(T1).timeline[0].previewDropped, 2);
});

test("keys: a generated key never equals another entry's, whatever the server's ids", () => {
  const m = folded([
    { type: "agent.message", session_thread_id: T1 }, // no id: generated
    { type: "agent.message", id: "#0", session_thread_id: T1 },
    { type: "agent.message", id: "##0", session_thread_id: T1 },
    { type: "agent.message", id: "evt_1", session_thread_id: T1 },
  ]);
  m.pushError(Object.assign(new Error("bad"), { kind: "decode" }), { threadId: T1 });
  m.flush();
  const keys = m.getThread(T1).timeline.map((e) => e.key);
  assert.equal(new Set(keys).size, keys.length, keys.join(" "));
  assert.equal(keys[3], "evt_1", "an id that does not begin with # is its key");
});

test("ids: only non-empty strings are ids; an event with another id is kept, never replaces nor is replaced", () => {
  const m = folded([
    { type: "agent.message", id: 5, session_thread_id: T1, content: "a" },
    { type: "agent.message", id: 5, session_thread_id: T1, content: "b" },
    { type: "agent.message", id: "", session_thread_id: T1 },
    { type: "agent.message", id: { x: 1 }, session_thread_id: T1 },
  ]);
  const t = m.getThread(T1);
  assert.equal(t.timeline.length, 4);
  assert.deepEqual(t.timeline.map(entryEventIds), [[], [], [], []]);
  assert.equal(t.lastEventId, null);
  assert.equal(m.getSnapshot().counts.updates, 0);
});

test("fold: an event whose type is not a string is kept as an unknown event, counted", () => {
  const m = folded([{ type: 5, id: "e1", session_thread_id: T1 }, { id: "e2", session_thread_id: T1 }, { type: null }]);
  assert.deepEqual(m.getThread(T1).timeline.map((e) => [e.kind, e.event.type]), [["event", 5], ["event", undefined]]);
  assert.equal(m.getSnapshot().session.timeline[0].event.type, null);
  const c = m.getSnapshot().counts;
  assert.equal(c.events, 3);
  assert.equal(c.unknown, 3);
  assert.equal(c.otherTypes, 3);
  assert.equal(eventGroup(5), "other");
});

// ---- snapshots -----------------------------------------------------------------------------

test("snapshots: an unchanged thread keeps its identity, a changed one is a new object; published ones never change", () => {
  const m = folded([created(T2, T1, "Research Agent"), created(T3, T1, "Review Agent"), ev(T2, "agent.message", { content: "a" })]);
  const s1 = m.getSnapshot();
  assert.ok(Object.isFrozen(s1) && Object.isFrozen(s1.threads) && Object.isFrozen(s1.threads[T2]));
  assert.ok(Object.isFrozen(s1.threads[T2].timeline) && Object.isFrozen(s1.threads[T2].timeline[0]));
  const t2Len = s1.threads[T2].timeline.length;
  m.push(ev(T3, "agent.message", { content: "b" }));
  m.flush();
  const s2 = m.getSnapshot();
  assert.notEqual(s2, s1);
  assert.ok(s2.version > s1.version);
  assert.equal(s2.threads[T2], s1.threads[T2], "the unchanged thread is the same object");
  assert.equal(s2.threads[T1], s1.threads[T1]);
  assert.notEqual(s2.threads[T3], s1.threads[T3], "the changed thread is a new object");
  assert.equal(s2.threads[T3].timeline[0], s1.threads[T3].timeline[0], "its unchanged entries are the same objects");
  assert.equal(s2.threadIds, s1.threadIds, "no new thread: the same id list");
  assert.equal(s2.session, s1.session);
  assert.equal(s1.threads[T3].timeline.length, 1, "the old snapshot did not change");
  assert.equal(s1.threads[T2].timeline.length, t2Len);
  assert.equal(s1.counts.events, 3);
  // nothing pushed: no new snapshot
  m.flush();
  assert.equal(m.getSnapshot(), s2);
  // a child added: the parent changes, its siblings do not
  m.push(created("sthr_new", T2, "Sub Agent"));
  m.flush();
  const s3 = m.getSnapshot();
  assert.notEqual(s3.threads[T2], s2.threads[T2]);
  assert.equal(s3.threads[T3], s2.threads[T3]);
  assert.notEqual(s3.threadIds, s2.threadIds);
});

test("notifications: one per batch (microtask), a stable snapshot between them; unsubscribe; a throwing listener", async () => {
  const m = createSessionModel();
  const seen = [];
  const off = m.subscribe((snap) => seen.push(snap));
  const twice = [];
  const offTwice = m.subscribe(() => twice.push(m.getSnapshot()));
  const before = m.getSnapshot();
  for (let i = 0; i < 100; i++) m.push(ev(T1, "agent.message", { content: String(i) }));
  assert.equal(m.getSnapshot(), before, "nothing is published before the batch ends");
  assert.equal(seen.length, 0);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(seen.length, 1, "one notification for the batch");
  assert.equal(seen[0], m.getSnapshot());
  assert.equal(twice[0], seen[0], "every listener sees the same snapshot");
  assert.equal(m.getSnapshot(), m.getSnapshot());
  assert.equal(seen[0].threads[T1].timeline.length, 100);
  offTwice();
  offTwice(); // idempotent
  m.push(ev(T1, "agent.message"));
  m.flush(); // published at once
  assert.equal(seen.length, 2);
  assert.equal(twice.length, 1, "an unsubscribed listener is not called");
  await sleep(0);
  assert.equal(seen.length, 2, "the flushed batch is not notified again");
  // the methods are bound: useSyncExternalStore(model.subscribe, model.getSnapshot)
  const { subscribe, getSnapshot, getThread } = m;
  const offBound = subscribe(() => {});
  assert.equal(getSnapshot(), m.getSnapshot());
  assert.equal(getThread(T1), m.getThread(T1));
  offBound();
  // a listener that throws: the others are still called, the error is reported (Node: a warning)
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on("warning", onWarning);
  const offBad = m.subscribe(() => { throw new Error("listener bug"); });
  m.push(ev(T1, "agent.message"));
  m.flush();
  await sleep(10);
  process.off("warning", onWarning);
  offBad();
  assert.equal(seen.length, 3);
  assert.ok(warnings.some((w) => w.message === "listener bug"), warnings.map(String).join());
  off();
  assert.ok(m instanceof SessionModel);
});

test("notifications: a flush() from a listener: every listener gets each snapshot once, in order", () => {
  const m = createSessionModel();
  const seen = { a: [], b: [], c: [] };
  let once = true;
  m.subscribe((s) => {
    seen.a.push(s.version);
    if (once) {
      once = false;
      m.push(ev(T1, "agent.message"));
      m.flush();
      assert.equal(m.getSnapshot().version, s.version + 1, "published at once");
    }
  });
  m.subscribe((s) => seen.b.push(s.version));
  m.subscribe((s) => seen.c.push(s.version));
  m.push(ev(T1, "agent.message"));
  m.flush();
  const v = m.getSnapshot().version;
  assert.deepEqual(seen, { a: [v - 1, v], b: [v - 1, v], c: [v - 1, v] });
});

// ---- attached to real streams ------------------------------------------------------------

test("attach: a SessionStream and a ThreadStream of the built package against the reference server; close() detaches", async () => {
  const { sessionId, threadId } = await server.thread();
  const child = await server.childThread(sessionId, threadId, "Research Agent");
  const toolUse = await server.event(sessionId, child, { type: "agent.tool_use", name: "web_search", input: { q: "x" } });
  await server.event(sessionId, child, { type: "agent.tool_result", tool_use_id: toolUse.id, content: "ok" });
  await server.event(sessionId, threadId, { type: "agent.brand_new_thing", x: 1 });

  const model = createSessionModel();
  const notified = [];
  model.subscribe((s) => notified.push(s));
  const ss = new tt.SessionStream({ baseUrl: server.base, sessionId, token: TOKEN, retry: FAST });
  streams.push(ss);
  const detachSession = model.attach(ss);
  assert.equal(model.attach(ss), detachSession, "attaching twice attaches once");
  await waitFor(() => model.getThread(child)?.timeline.length === 2, { what: "the child's history" });
  let s = model.getSnapshot();
  assert.equal(s.threads[child].parentId, threadId);
  assert.equal(s.threads[child].agentName, "Research Agent");
  assert.equal(s.threads[child].timeline[1].kind, "tool");
  assert.equal(s.threads[child].timeline[1].state, "done");
  assert.equal(s.threads[threadId].timeline[0].event.type, "agent.brand_new_thing");
  assert.ok(notified.length >= 1 && notified.length <= 4, `a few notifications for the replayed history (${notified.length})`);

  // live: a status change of the child
  await server.event(sessionId, child, { type: "session.thread_status_running", agent_name: "Research Agent" });
  await waitFor(() => model.getThread(child).status === "running", { what: "live status" });

  // a ThreadStream of the coordinator on the same model: overlapping events are not doubled
  const ts = new tt.ThreadStream({ baseUrl: server.base, sessionId, threadId, token: TOKEN, retry: FAST });
  streams.push(ts);
  const r = record(ts);
  model.attach(ts, { threadId });
  await waitFor(() => r.events.length === 1, { what: "the thread stream's history" });
  await sleep(20);
  assert.equal(model.getThread(threadId).timeline.length, 1);

  // close(): the model is detached, nothing of that stream acts on it any more
  ts.close();
  detachSession();
  const frozen = model.getSnapshot();
  await server.event(sessionId, threadId, { type: "agent.message", content: "after" });
  await server.event(sessionId, child, { type: "session.thread_status_idle", stop_reason: { type: "end_turn" } });
  await sleep(150);
  assert.equal(model.getSnapshot(), frozen, "no change after close() and detach");
  assert.equal(ss.state, "open", "detach leaves the stream itself alone");
  ss.close();

  // a stream closed by its terminal event detaches by itself
  const m2 = createSessionModel();
  const ts2 = new tt.ThreadStream({ baseUrl: server.base, sessionId, threadId: child, token: TOKEN, retry: FAST });
  streams.push(ts2);
  m2.attach(ts2, { threadId: child });
  await server.event(sessionId, child, { type: "session.thread_status_terminated", stop_reason: { type: "archive" } });
  await waitFor(() => ts2.state === "closed", { what: "the stream ends after terminated" });
  await waitFor(() => m2.getThread(child)?.status === "terminated", { what: "terminated folded" });
  m2.flush();
  const end = m2.getSnapshot();
  assert.equal(isEnded(end.threads[child]), true);
  assert.equal(end.threads[child].timeline.at(-1).event.type, "session.thread_status_terminated");
});

test("attach: a source reporting closed detaches, and a late callback of it does nothing", () => {
  const listeners = {};
  const source = {
    state: "open",
    onEvent(f) { listeners.event = f; return () => { /* a stream whose removal is late */ }; },
    onError(f) { listeners.error = f; return () => {}; },
    onStateChange(f) { listeners.state = f; return () => {}; },
  };
  const m = createSessionModel();
  m.attach(source, { threadId: T1 });
  listeners.event({ type: "agent.message", id: "evt_a" }, { update: false });
  listeners.error(Object.assign(new Error("x"), { kind: "decode" }));
  m.flush();
  assert.equal(m.getThread(T1).timeline.length, 2, "the threadId names the thread of events without one");
  listeners.state("closed");
  listeners.event({ type: "agent.message", id: "evt_b" }, { update: false });
  listeners.error(new Error("late"));
  m.flush();
  assert.equal(m.getThread(T1).timeline.length, 2);
  assert.equal(m.getSnapshot().counts.errors, 1);
  // an already closed stream is not attached at all
  const m3 = createSessionModel();
  m3.attach({ ...source, state: "closed" });
  listeners.event({ type: "agent.message", id: "evt_c", session_thread_id: T1 });
  m3.flush();
  assert.equal(m3.getSnapshot().threadIds.length, 0);
  assert.throws(() => m.attach({}), TypeError);
});

test("attach: a source whose registration throws is left with no listener of the model", () => {
  const registered = new Set();
  const on = (f) => { registered.add(f); return () => registered.delete(f); };
  const source = { onEvent: on, onError() { throw new Error("no onError today"); } };
  const m = createSessionModel();
  assert.throws(() => m.attach(source), /no onError today/);
  assert.equal(registered.size, 0, "the onEvent listener was removed");
  source.onError = on;
  source.onStateChange = () => { throw new Error("nor onStateChange"); };
  assert.throws(() => m.attach(source), /nor onStateChange/);
  assert.equal(registered.size, 0);
  delete source.onStateChange;
  const detach = m.attach(source);
  assert.equal(registered.size, 2, "a later attach works");
  for (const f of registered) if (f.length === 2) f({ type: "agent.message", id: "e1", session_thread_id: T1 }, {});
  m.flush();
  assert.equal(m.getThread(T1).timeline.length, 1);
  detach();
  assert.equal(registered.size, 0);
  // a source that reports closed while it is attached: no listener of it is left
  const closing = { onEvent: on, onError: on, onStateChange: (f) => { f("closed"); return on(f); } };
  m.attach(closing);
  assert.equal(registered.size, 0);
});

// ---- types -----------------------------------------------------------------------------------

test("types: the declarations compile with a usage file (tests/ts/model-usage.ts, strict, no skipLibCheck)", async () => {
  const ts = (await import("typescript")).default;
  const dir = fileURLToPath(new URL("../ts/", import.meta.url));
  const program = ts.createProgram([`${dir}model-usage.ts`], {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: [], skipLibCheck: false, baseUrl: dir,
    paths: { "threadtail": [`${ROOT}pkg/index.d.ts`], "threadtail/model": [`${ROOT}pkg/model.d.ts`] },
  });
  const diags = ts.getPreEmitDiagnostics(program).map((d) => `TS${d.code} ${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
  assert.deepEqual(diags, []);
});
