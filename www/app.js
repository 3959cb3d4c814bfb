// threadtail thread viewer: a live view of a multi-agent session, built only on the public API
// of the threadtail package (ThreadStream, SessionStream, listThreads) and its session model
// (threadtail/model), which keeps the state: this file only renders it. Plain ES module, no build.
import { listThreads } from "./pkg/index.js";
// The tabs of this origin share one connection per stream, and a reload resumes from the
// thread's cached events (threadtail/tabs): open the viewer in a second tab to see it.
import { SharedThreadStream, SharedSessionStream } from "./pkg/tabs.js";
import { createSessionModel, isEnded, eventGroup, selectChildren, EVENT_GROUPS as G } from "./pkg/model.js";

const DEMO_SESSION = "sess_demo0000000000000000000000000001";
const DEV_TOKEN = "devtoken";
const TOKEN_KEY = "threadtail.viewer.token"; // sessionStorage only, and only when asked
const MAX_ROWS = 2000;
const RETRY = { initialDelayMs: 1000, maxDelayMs: 15000 };

/** The type filter: each chip stands for a set of event types sent as the server-side `types`. */
const FILTERS = [
  { key: "messages", label: "Messages", types: [...G.message, ...G.thread_message] },
  { key: "thinking", label: "Thinking", types: G.thinking },
  { key: "tools", label: "Tools", types: G.tool },
  { key: "status", label: "Status", types: G.status },
  { key: "errors", label: "Errors", types: G.error },
];
/** What the tree needs from the session stream: threads created and their statuses. */
const TREE_TYPES = G.status.filter((t) => t.startsWith("session.thread_"));

// ---------------------------------------------------------------------------------------------
// Small DOM helpers: everything from the server goes in as text, never as HTML.

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const shortId = (id) => (id ? `…${String(id).slice(-6)}` : "");

function timeOf(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** A `content` (string or blocks) as plain text. */
function contentText(content) {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return JSON.stringify(content);
  return content.map((b) => {
    if (!b || typeof b !== "object") return String(b);
    switch (b.type) {
      case "text": return b.text ?? "";
      case "image": return "[image]";
      case "document": return "[document]";
      case "redacted": return "[redacted]";
      default: return b.text ?? `[${b.type ?? "block"}]`;
    }
  }).join("\n");
}

const pretty = (v) => {
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
};

// ---------------------------------------------------------------------------------------------
// State

const state = {
  conn: null, // { baseUrl, token, sessionId }
  session: null, // the session model: the thread tree (listThreads, then the SessionStream)
  view: null, // the selected thread's model (its ThreadStream, filtered by the server)
  offSession: null, // unsubscribes the tree from the session model
  offView: null, // unsubscribes the timeline from the view model
  selected: null,
  sessionStream: null,
  threadStream: null,
  filter: new Set(), // empty: every type
  reconnects: 0,
  reconnectAt: 0,
  reconnectReason: "",
  streamState: "idle",
};
const items = new Map(); // thread id -> { thread, el, parts }: tree items, redrawn when the thread object changes
const rowsOf = new WeakMap(); // timeline entry -> its row elements

// ---------------------------------------------------------------------------------------------
// Errors, as a person can act on them

function explain(err, where) {
  const status = err?.status;
  const base = state.conn?.baseUrl ?? "";
  switch (err?.kind) {
    case "authentication":
      return { title: `The token was rejected (${status ?? 401}).`,
        text: "Check the token in the connection panel and press Connect. The reference server's default token is “devtoken”." };
    case "not_found":
      if (where === "thread") {
        return { title: `Thread not found (${status ?? 404}).`,
          text: "The thread does not exist (any more) in this session. Pick another thread." };
      }
      return { title: `Session not found (${status ?? 404}).`,
        text: `There is no session “${state.conn?.sessionId ?? ""}” at ${base}. Check the session id, or press “Find sessions”.` };
    case "permission":
      return { title: `Access denied (${status ?? 403}).`, text: "This token may not read this session." };
    case "network":
      return { title: "Cannot reach the server.",
        text: `Nothing answered at ${base}. Check the base URL and that the server runs (npm run demo).` };
    case "invalid_argument":
      return { title: "Check the connection settings.", text: err.message };
    case "retrying":
      return { title: "Still trying to reconnect.", text: err.message };
    case "rate_limited":
      return { title: `Too many requests (${status ?? 429}).`, text: "Wait a moment, then press Connect." };
    default:
      return { title: status ? `The request failed (${status}).` : "Something went wrong.", text: err?.message ?? String(err) };
  }
}

function showError(err, where, level = "error") {
  const { title, text } = explain(err, where);
  const banner = $("error-banner");
  banner.dataset.level = level;
  transientShown = level === "warn";
  banner.dataset.kind = err?.kind ?? "unknown";
  banner.dataset.status = err?.status ?? "";
  $("error-title").textContent = title;
  $("error-message").textContent = text;
  banner.hidden = false;
}

function clearError() {
  transientShown = false;
  $("error-banner").hidden = true;
}

let transientShown = false; // the banner shows a warning that an open stream clears
let toastTimer = 0;
function toast(text) {
  let el = $("toast");
  if (!el) {
    el = h("div", { class: "toast", "data-testid": "toast", role: "status" });
    document.body.append(el);
  }
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 3500);
}

// ---------------------------------------------------------------------------------------------
// Connection state line

function renderState() {
  const badge = $("state-badge");
  let s = state.streamState;
  let label = s;
  if (s === "reconnecting") {
    const left = Math.max(0, state.reconnectAt - Date.now());
    label = left > 0 ? `reconnecting in ${Math.ceil(left / 1000)} s` : "reconnecting…";
  } else if (s === "closed" && isEnded(state.view?.getThread(state.selected))) {
    label = "closed · thread ended";
  } else if (s === "idle") {
    label = "not connected";
  }
  badge.dataset.state = s;
  badge.textContent = label;
  badge.title = s === "reconnecting" && state.reconnectReason ? `Reason: ${state.reconnectReason}` : "";
  $("reconnect-count").textContent = String(state.reconnects);
  $("last-event-id").textContent = state.threadStream?.lastEventId || "–";
  $("last-event-id").title = state.threadStream?.lastEventId || "";
  $("drop-button").disabled = !state.conn;
  // Which tab holds the thread's connection (the others receive its events).
  const role = state.threadStream?.role;
  $("tab-role").textContent = role === "leader" ? "this tab" : role === "follower" ? "another tab" : role === "own" ? "own" : "–";
}
setInterval(() => { if (state.streamState === "reconnecting") renderState(); }, 250);

// ---------------------------------------------------------------------------------------------
// Thread tree

const statusOf = (t) => t.status ?? "created";
const roleOf = (t) => t.role || (t.parentId ? "child" : "coordinator");

function threadItem(t) {
  let item = items.get(t.id);
  if (!item) {
    const dot = h("span", { class: "dot", "aria-hidden": "true" });
    const name = h("span", { class: "name" });
    const role = h("span", { class: "role" });
    const id = h("span", { class: "tid" });
    const badge = h("span", { class: "status", "data-testid": "thread-status" });
    const el = h("li", { role: "treeitem", class: "thread", "data-testid": "thread-item", "data-thread-id": t.id },
      h("button", { type: "button", class: "thread-btn", onclick: () => pickThread(t.id) },
        dot, h("span", { class: "label" }, name, h("span", { class: "subline" }, role, id)), badge));
    item = { thread: null, el, parts: { name, role, id, badge } };
    items.set(t.id, item);
  }
  if (item.thread !== t) { // the model gives a changed thread a new object
    item.thread = t;
    const { name, role, id, badge } = item.parts;
    name.textContent = t.agentName || "(unnamed agent)";
    role.textContent = roleOf(t);
    id.textContent = shortId(t.id);
    id.title = t.id;
    badge.textContent = statusOf(t);
    badge.title = t.stopReason?.type ? `stop reason: ${t.stopReason.type}` : "";
    item.el.dataset.status = statusOf(t);
    item.el.dataset.role = roleOf(t);
  }
  item.el.setAttribute("aria-selected", String(state.selected === t.id));
  return item.el;
}

function pickThread(id) {
  selectThread(id);
  if (matchMedia("(max-width: 760px)").matches) {
    document.querySelector(".timeline-panel").scrollIntoView({ block: "start", behavior: "smooth" });
  }
}

function renderTree() {
  const tree = $("thread-tree");
  const snap = state.session?.getSnapshot();
  const threads = snap ? snap.threadIds.map((id) => snap.threads[id]) : [];
  const byCreated = (a, b) => (a.createdAt || "").localeCompare(b.createdAt || "") || a.id.localeCompare(b.id);
  const hideEnded = $("hide-ended").checked;
  const order = [];
  const walk = (t, depth) => {
    if (hideEnded && depth > 0 && isEnded(t) && t.id !== state.selected) return;
    order.push([t, depth]);
    selectChildren(snap, t.id).sort(byCreated).forEach((c) => walk(c, depth + 1));
  };
  if (snap) selectChildren(snap, null).sort(byCreated).forEach((t) => walk(t, 0));
  order.forEach(([t, depth], i) => {
    const el = threadItem(t);
    el.style.setProperty("--depth", String(Math.min(depth, 4)));
    el.setAttribute("aria-level", String(depth + 1));
    if (tree.children[i] !== el) tree.insertBefore(el, tree.children[i] ?? null);
  });
  while (tree.children.length > order.length) tree.lastElementChild.remove();
  const nEnded = threads.filter(isEnded).length;
  $("thread-count").textContent = String(threads.length);
  $("thread-count").title = `${threads.length} threads, ${nEnded} ended`;
  $("hide-ended-count").textContent = nEnded ? ` (${nEnded})` : "";
  $("threads-empty").hidden = order.length > 0;
}

const threadName = (id) => state.session?.getThread(id)?.agentName || shortId(id) || "?";

// ---------------------------------------------------------------------------------------------
// Timeline

function eventBody(e) {
  switch (e.type) {
    case "agent.thread_message_sent":
    case "agent.thread_message_received": {
      const from = e.from_agent_name || threadName(e.from_session_thread_id);
      const to = e.to_agent_name || threadName(e.to_session_thread_id);
      const down = e.direction === "coordinator_to_child";
      return [
        h("div", { class: "route", "data-testid": "message-route" },
          h("span", { class: "who" }, from),
          h("span", { class: `arrow ${down ? "down" : "up"}`, title: e.direction ?? "" }, "→"),
          h("span", { class: "who" }, to),
          h("span", { class: "muted" }, e.type.endsWith("_sent") ? "sent" : "received"),
          e.is_error ? h("span", { class: "tag err" }, "error") : null),
        h("div", { class: "text" }, contentText(e.content)),
      ];
    }
    case "agent.message":
    case "user.message":
    case "system.message":
      return [h("div", { class: "text" }, contentText(e.content))];
    case "agent.thinking":
      return [h("div", { class: "text thinking" }, contentText(e.content))];
    case "agent.tool_use":
    case "agent.mcp_tool_use":
    case "agent.custom_tool_use":
      return [
        h("div", { class: "tool" }, h("code", { class: "tool-name" }, e.name ?? "(tool)"),
          e.mcp_server_name ? h("span", { class: "muted" }, `via ${e.mcp_server_name}`) : null),
        e.input !== undefined ? h("pre", { class: "json" }, pretty(e.input)) : null,
      ];
    case "agent.tool_result":
    case "agent.mcp_tool_result":
    case "user.tool_result":
    case "user.custom_tool_result":
      return [h("div", { class: `text ${e.is_error ? "is-error" : ""}` },
        e.is_error ? h("span", { class: "tag err" }, "error") : null, contentText(e.content))];
    case "session.thread_created":
      return [h("div", { class: "text" }, "New ", e.role ?? "child", " thread ",
        h("strong", {}, e.agent_name ?? shortId(e.session_thread_id)))];
    case "session.thread_status_running":
    case "session.thread_status_idle":
    case "session.thread_status_terminated":
    case "session.thread_status_rescheduled":
    case "session.status_running":
    case "session.status_idle":
    case "session.status_terminated":
    case "session.status_rescheduled": {
      const st = e.status || e.type.split("_").pop();
      return [h("div", { class: "text" },
        h("span", { class: `status s-${st}` }, st),
        e.stop_reason?.type ? h("span", { class: "muted" }, ` stop reason: ${e.stop_reason.type}`) : null)];
    }
    case "session.error":
      return [h("div", { class: "text is-error" },
        h("strong", {}, e.error?.type ?? "error"), ": ", e.error?.message ?? "",
        e.error?.retry_status?.type ? h("span", { class: "muted" }, ` (retry: ${e.error.retry_status.type})`) : null)];
    default:
      return [h("details", { class: "raw" }, h("summary", {}, "raw event"), h("pre", { class: "json" }, pretty(e)))];
  }
}

const KIND = (t) => eventGroup(t).replace("thread_message", "thread-msg");

const TYPE_LABEL = {
  "agent.thread_message_sent": "message sent",
  "agent.thread_message_received": "message received",
  "agent.message": "agent",
  "user.message": "user",
  "system.message": "system",
  "agent.thinking": "thinking",
  "agent.tool_use": "tool use",
  "agent.tool_result": "tool result",
  "session.thread_created": "thread created",
  "session.error": "error",
};

function eventRow(e, answer = false) {
  // A server may send any JSON as `type` (the model keeps such events as unknown ones).
  const type = String(e.type ?? "unknown");
  const label = TYPE_LABEL[type] ?? (type.startsWith("session.thread_status_") ? "status" : type);
  return h("li", { class: `event k-${KIND(type)}${answer ? " answer" : ""}`, "data-testid": "event-row", "data-event-id": e.id ?? "",
      "data-type": type, "data-thread-id": e.session_thread_id ?? "" },
    h("div", { class: "event-head" },
      h("span", { class: "type", title: type }, label),
      h("time", { datetime: e.created_at ?? "", title: e.created_at ?? "" }, timeOf(e.created_at)),
      h("span", { class: "eid", title: e.id ?? "" }, shortId(e.id))),
    h("div", { class: "event-body" }, eventBody(e)));
}

/** The rows of a timeline entry: a tool use and what answers it, or a message and its receipt, stay together. */
function entryRows(entry) {
  let rows = rowsOf.get(entry);
  if (rows) return rows;
  switch (entry.kind) {
    case "tool":
      rows = [entry.use, entry.confirmation, entry.result].filter(Boolean).map((e, i) => eventRow(e, i > 0));
      break;
    case "thread_message": {
      const own = entry.side === "sent" ? entry.sent : entry.received;
      rows = [eventRow(own)];
      if (entry.side === "sent" && entry.received) rows[0].querySelector(".route").append(h("span", { class: "tag" }, "received ✓"));
      break;
    }
    case "error": rows = [decodeRow(entry.error)]; break;
    default: rows = [eventRow(entry.event)];
  }
  rowsOf.set(entry, rows);
  return rows;
}

/** Shows a thread's timeline: rows of unchanged entries stay, changed ones are redrawn in place. */
function renderTimeline(thread) {
  const list = $("event-list");
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const rows = (thread?.timeline ?? []).flatMap(entryRows);
  const keep = new Set(rows);
  for (const el of [...list.children]) if (!keep.has(el)) el.remove();
  rows.forEach((el, i) => { if (list.children[i] !== el) list.insertBefore(el, list.children[i] ?? null); });
  if (!rows.length) return;
  $("timeline-empty").hidden = true;
  if (nearBottom) list.scrollTop = list.scrollHeight;
  else $("jump-latest").hidden = false;
  list.dataset.count = String(rows.length);
}

function decodeRow(err) {
  return h("li", { class: "event k-error", "data-testid": "decode-error", "data-type": "decode-error" },
    h("div", { class: "event-head" }, h("span", { class: "type" }, "unreadable event")),
    h("div", { class: "event-body" }, h("div", { class: "text is-error" }, err.message)));
}

function renderFilters() {
  const box = $("type-filter");
  box.replaceChildren(
    h("button", { type: "button", class: "chip", "data-testid": "filter-all", "aria-pressed": String(state.filter.size === 0),
      onclick: () => setFilter(null) }, "All"),
    ...FILTERS.map((f) => h("button", { type: "button", class: "chip", "data-testid": `filter-${f.key}`,
      "aria-pressed": String(state.filter.has(f.key)), title: f.types.join(", "), onclick: () => setFilter(f.key) }, f.label)),
  );
}

function setFilter(key) {
  if (key === null) state.filter.clear();
  else if (state.filter.has(key)) state.filter.delete(key);
  else state.filter.add(key);
  if (state.filter.size === FILTERS.length) state.filter.clear();
  renderFilters();
  if (state.selected) selectThread(state.selected, true); // the server filters: reconnect with `types`
}

function filterTypes() {
  return FILTERS.filter((f) => state.filter.has(f.key)).flatMap((f) => f.types);
}

// ---------------------------------------------------------------------------------------------
// Streams

function selectThread(id, force = false) {
  if (!state.conn || (state.selected === id && !force)) return;
  state.threadStream?.close(); // its model detaches itself when the stream closes
  state.threadStream = null;
  state.offView?.();
  state.selected = id;
  state.reconnects = 0;
  $("event-list").replaceChildren();
  $("event-list").dataset.count = "0";
  $("timeline-empty").hidden = false;
  $("timeline-empty").textContent = "Waiting for events…";
  $("jump-latest").hidden = true;
  $("timeline-title").textContent = state.session?.getThread(id)?.agentName || "Thread";
  $("timeline-thread-id").textContent = id;
  document.querySelectorAll('[data-testid="thread-item"]').forEach((el) =>
    el.setAttribute("aria-selected", String(el.dataset.threadId === id)));

  const types = filterTypes();
  let stream;
  try {
    stream = new SharedThreadStream({ ...state.conn, threadId: id, types: types.length ? types : undefined, retry: RETRY, persist: true });
  } catch (err) {
    showError(err, "thread");
    return;
  }
  state.threadStream = stream;
  const view = createSessionModel({ maxTimelineEntries: MAX_ROWS });
  view.attach(stream, { threadId: id });
  state.view = view;
  state.offView = view.subscribe(() => {
    renderTimeline(view.getThread(id));
    renderState();
  });
  stream.onRoleChange(() => renderState());
  stream.onStateChange((s) => {
    state.streamState = s;
    if (s === "open") clearErrorIfTransient();
    renderState();
  });
  stream.onReconnect((info) => {
    state.reconnects += 1;
    state.reconnectAt = Date.now() + (info.delayMs ?? 0);
    state.reconnectReason = info.reason ?? "";
    // One drop is routine; several failed attempts in a row deserve a word.
    if ((info.attempt ?? 0) >= 3) {
      showError({ kind: "retrying", message: `Reconnect attempt ${info.attempt}, after: ${info.reason}. The viewer keeps trying and resumes from the last event id.` }, "thread", "warn");
    }
    renderState();
  });
  // Decode errors are rows of the timeline (the model puts them there); the rest is a banner.
  stream.onError((err) => { if (!err.retryable && err.kind !== "decode" && err.kind !== "too_large") showError(err, "thread"); });
  state.streamState = stream.state;
  renderState();
}

function clearErrorIfTransient() {
  if (transientShown) { clearError(); transientShown = false; }
}

function closeAll() {
  state.threadStream?.close();
  state.sessionStream?.close();
  state.threadStream = null;
  state.sessionStream = null;
  state.offSession?.();
  state.offView?.();
  state.session = state.view = state.offSession = state.offView = null;
}

async function connect(conn) {
  closeAll();
  clearError();
  state.conn = conn;
  state.selected = null;
  state.streamState = "connecting";
  const session = createSessionModel();
  state.session = session;
  state.offSession = session.subscribe(renderTree);
  $("thread-tree").replaceChildren();
  items.clear();
  $("event-list").replaceChildren();
  $("timeline-title").textContent = "Timeline";
  $("timeline-thread-id").textContent = "";
  $("timeline-empty").hidden = false;
  $("timeline-empty").textContent = "Loading threads…";
  $("threads-empty").textContent = "Loading threads…";
  renderTree();
  renderState();

  try {
    for await (const t of listThreads({ baseUrl: conn.baseUrl, sessionId: conn.sessionId, token: conn.token })) {
      if (state.session !== session) return; // connected elsewhere meanwhile
      session.pushThread(t);
    }
  } catch (err) {
    if (state.session !== session) return;
    state.streamState = "closed";
    state.conn = null;
    renderState();
    $("threads-empty").textContent = "No threads: see the message above.";
    $("timeline-empty").textContent = "Not connected.";
    showError(err, "session");
    return;
  }
  if (state.session !== session) return;
  session.flush();

  // Threads created later, and every status change, come from the session stream. The model
  // keeps the listed status when the replayed history is older.
  const ss = new SharedSessionStream({ ...conn, types: TREE_TYPES, retry: RETRY });
  state.sessionStream = ss;
  session.attach(ss);
  ss.onError((err) => { if (!err.retryable && err.kind !== "decode") showError(err, "session"); });

  const { rootIds, threadIds } = session.getSnapshot();
  const coordinator = rootIds[0] ?? threadIds[0];
  if (coordinator) selectThread(coordinator);
  else {
    state.streamState = ss.state;
    $("timeline-empty").textContent = "This session has no threads yet.";
    renderState();
  }
}

function disconnect() {
  closeAll();
  state.streamState = "closed";
  state.conn = null;
  renderState();
}

function controlBase() {
  const base = state.conn?.baseUrl || $("base-url-input").value;
  try { return new URL(base, location.href).origin + "/_control"; } catch { return location.origin + "/_control"; }
}

async function dropConnection() {
  try {
    const r = await fetch(`${controlBase()}/disconnect`, { method: "POST" });
    if (!r.ok) throw new Error(`the control API answered ${r.status}`);
    const { closed } = await r.json();
    toast(`The server dropped ${closed} stream${closed === 1 ? "" : "s"}: resuming from the last event id.`);
  } catch (err) {
    toast(`Could not drop the connection: ${err.message}. The control API is only on the reference server.`);
  }
}

async function discoverSessions(pick) {
  try {
    const r = await fetch(`${controlBase()}/sessions`);
    if (!r.ok) throw new Error(String(r.status));
    const { sessions = [] } = await r.json();
    $("session-list").replaceChildren(...sessions.map((s) =>
      h("option", { value: s.session_id }, `${s.threads?.length ?? 0} threads, ${s.event_count ?? 0} events`)));
    const input = $("session-input");
    if (pick && sessions.length && !sessions.some((s) => s.session_id === input.value)) {
      input.value = sessions[0].session_id;
    }
    if (pick) toast(sessions.length ? `Found ${sessions.length} session${sessions.length === 1 ? "" : "s"}.` : "The server has no session.");
  } catch {
    if (pick) toast("Could not list sessions: that needs the reference server's control API.");
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function readForm() {
  const f = $("connect-form");
  const token = f.token.value;
  if (f.remember.checked) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  return { baseUrl: f.baseUrl.value.trim().replace(/\/+$/, ""), token, sessionId: f.sessionId.value.trim() };
}

function init() {
  const f = $("connect-form");
  f.baseUrl.value = `${location.origin}/v1`;
  const remembered = sessionStorage.getItem(TOKEN_KEY);
  f.token.value = remembered ?? DEV_TOKEN;
  f.remember.checked = remembered !== null;
  f.sessionId.value = DEMO_SESSION;
  f.remember.addEventListener("change", () => {
    if (!f.remember.checked) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, f.token.value);
  });
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    connect(readForm());
  });
  $("discover-button").addEventListener("click", () => discoverSessions(true));
  $("disconnect-button").addEventListener("click", disconnect);
  $("drop-button").addEventListener("click", dropConnection);
  $("error-dismiss").addEventListener("click", clearError);
  $("hide-ended").addEventListener("change", renderTree);
  const list = $("event-list");
  list.addEventListener("scroll", () => {
    if (list.scrollHeight - list.scrollTop - list.clientHeight < 80) $("jump-latest").hidden = true;
  });
  $("jump-latest").addEventListener("click", () => {
    list.scrollTop = list.scrollHeight;
    $("jump-latest").hidden = true;
  });
  if (matchMedia("(max-width: 760px)").matches) $("connect-panel").open = false;
  renderFilters();
  renderState();
  discoverSessions(false);
  connect(readForm());
}

init();
// For debugging from the console only; the page never reads it back.
window.threadtailViewer = { state };
