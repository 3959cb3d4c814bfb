// ---------------------------------------------------------------------------------------------
// threadtail: the typed events of a thread stream.
//
// What JavaScript receives is the API's JSON as sent: each event is `JSON.parse` of its `data`
// (with `type` and `id` filled in from the SSE fields when the JSON lacks them), not checked
// against these declarations at run time. They are the contract of the API: what a conforming
// server sends, so a field may still hold another JSON type when a server does not conform.
// (The Rust API's typed model, src/events/, does check: a value of another type stays in
// `extra`.)
//
// Hand-written to match src/events/; a native test (src/events/dts_drift.rs) fails when an
// event type, a payload field or a field's type differs from the Rust model. Field names are
// the wire's (snake_case). Every field but `type` is optional: servers differ.
//
// Usage:
//   stream.on("session.thread_created", (e) => e.parent_thread_id); // typed
//   switch (e.type) { case "agent.message": e.content; break; }     // narrowed
// An event type this version does not know arrives as an `UnknownEvent`.
// ---------------------------------------------------------------------------------------------

/** A thread's status. An open set: a value added by a newer server is passed through. */
export type ThreadStatus =
  | "running"
  | "idle"
  | "rescheduling"
  | "terminated"
  | "archived"
  | "blocked"
  | (string & {});

/** A thread's role in a multi-agent session. An open set. */
export type Role = "coordinator" | "child" | (string & {});

/** Which way a message between threads goes. An open set. */
export type Direction = "coordinator_to_child" | "child_to_coordinator" | (string & {});

/** `stop_reason` `{"type":"end_turn"}`: the agent finished its turn. */
export interface EndTurnStopReason {
  type: "end_turn";
}

/** `stop_reason` `{"type":"requires_action"}`: the listed events wait for an answer. */
export interface RequiresActionStopReason {
  type: "requires_action";
  /** The ids of the events (tool uses) that need an answer. */
  event_ids: string[];
}

/** `stop_reason` `{"type":"retries_exhausted"}`. */
export interface RetriesExhaustedStopReason {
  type: "retries_exhausted";
}

/** `stop_reason` `{"type":"budget_reached"}`. */
export interface BudgetReachedStopReason {
  type: "budget_reached";
}

/** `stop_reason` `{"type":"archive"}`. */
export interface ArchiveStopReason {
  type: "archive";
}

/** A stop reason this version does not know, as received. */
export interface UnknownStopReason {
  type: string;
  event_ids?: string[];
  [key: string]: unknown;
}

/** Why a thread or session stopped; narrow with `switch (reason.type)`. */
export type StopReason =
  | EndTurnStopReason
  | RequiresActionStopReason
  | RetriesExhaustedStopReason
  | BudgetReachedStopReason
  | ArchiveStopReason
  | UnknownStopReason;

/** Where an image or document is: `base64` (`media_type`, `data`), `url` or `file`. */
export interface ContentSource {
  type?: string;
  media_type?: string;
  data?: string;
  url?: string;
  file_id?: string;
  [key: string]: unknown;
}

/** `{"type":"text","text":"..."}`. */
export interface TextBlock {
  type: "text";
  text: string;
}

/** `{"type":"image","source":{...}}`. */
export interface ImageBlock {
  type: "image";
  source?: ContentSource;
}

/** `{"type":"document","source":{...}}`. */
export interface DocumentBlock {
  type: "document";
  source?: ContentSource;
}

/** `{"type":"redacted"}`: content the server withheld. */
export interface RedactedBlock {
  type: "redacted";
}

/** A block of a type this version does not know, as received. */
export interface UnknownBlock {
  type: string;
  text?: string;
  source?: ContentSource;
  [key: string]: unknown;
}

/** One block of an array `content`; narrow with `switch (block.type)`. */
export type ContentBlock = TextBlock | ImageBlock | DocumentBlock | RedactedBlock | UnknownBlock;

/** A message's or tool result's content: a plain string or an array of blocks. */
export type Content = string | ContentBlock[];

/** The `retry_status` of a `session.error`. */
export interface RetryStatus {
  type?: string;
}

/** The `error` of a `session.error`. */
export interface SessionErrorInfo {
  type?: string;
  message?: string;
  retry_status?: RetryStatus;
}

/** The `model_usage` of a `span.model_request_end`, in tokens. */
export interface ModelUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** The `delta` of an `event_delta`: `{"type":"content_delta","content":{...}}`. */
export interface ContentDelta {
  type?: string;
  content?: ContentBlock;
}

/**
 * The fields every event may carry. Deliberately without an index signature, so that a
 * misspelt field on a typed event is a compile error; only `UnknownEvent` has one.
 */
export interface EventBase {
  /** The event id; from the SSE `id:` line when the JSON lacks it. */
  id?: string;
  /** The event type; from the SSE `event:` name when the JSON lacks it. */
  type: string;
  schema_version?: string;
  session_id?: string;
  /** The thread the event belongs to. */
  session_thread_id?: string;
  turn_id?: string;
  /** RFC 3339. */
  created_at?: string;
  /** RFC 3339; `null` while a user event is still queued. */
  processed_at?: string | null;
}

// --- Thread events ---------------------------------------------------------------------------

/** `session.thread_created`: a new child thread was created. */
export interface ThreadCreatedEvent extends EventBase {
  type: "session.thread_created";
  parent_thread_id?: string;
  agent_id?: string;
  agent_version?: number;
  agent_name?: string;
  role?: Role;
  created_by_tool_use_id?: string;
}

/** `session.thread_status_running`: the thread started running. */
export interface ThreadStatusRunningEvent extends EventBase {
  type: "session.thread_status_running";
  agent_name?: string;
  status?: ThreadStatus;
}

/** `session.thread_status_idle`: the thread went back to idle. */
export interface ThreadStatusIdleEvent extends EventBase {
  type: "session.thread_status_idle";
  status?: ThreadStatus;
  stop_reason?: StopReason;
}

/** `session.thread_status_terminated`: the thread ended; the thread stream is over. */
export interface ThreadStatusTerminatedEvent extends EventBase {
  type: "session.thread_status_terminated";
  status?: ThreadStatus;
  stop_reason?: StopReason;
}

/** `session.thread_status_rescheduled`: the thread is being rescheduled. */
export interface ThreadStatusRescheduledEvent extends EventBase {
  type: "session.thread_status_rescheduled";
  status?: ThreadStatus;
}

/** `agent.thread_message_sent`: a message was sent to another thread. */
export interface ThreadMessageSentEvent extends EventBase {
  type: "agent.thread_message_sent";
  direction?: Direction;
  content?: Content;
  from_session_thread_id?: string;
  to_session_thread_id?: string;
  to_agent_name?: string;
}

/** `agent.thread_message_received`: a message from another thread was received. */
export interface ThreadMessageReceivedEvent extends EventBase {
  type: "agent.thread_message_received";
  direction?: Direction;
  content?: Content;
  is_error?: boolean;
  from_session_thread_id?: string;
  to_session_thread_id?: string;
  from_agent_name?: string;
}

/** `agent.thread_context_compacted`: the thread's context was compacted. */
export interface ThreadContextCompactedEvent extends EventBase {
  type: "agent.thread_context_compacted";
}

// --- User events -----------------------------------------------------------------------------

/** `user.message`. */
export interface UserMessageEvent extends EventBase {
  type: "user.message";
  content?: Content;
}

/** `user.interrupt`. */
export interface UserInterruptEvent extends EventBase {
  type: "user.interrupt";
}

/** `user.tool_confirmation`: a tool use was allowed or denied. */
export interface UserToolConfirmationEvent extends EventBase {
  type: "user.tool_confirmation";
  tool_use_id?: string;
  /** `"allow"` or `"deny"`. */
  result?: string;
  deny_message?: string;
}

/** `user.custom_tool_result`: the application answered a custom tool use. */
export interface UserCustomToolResultEvent extends EventBase {
  type: "user.custom_tool_result";
  custom_tool_use_id?: string;
  content?: Content;
  is_error?: boolean;
}

/** `user.tool_result`. */
export interface UserToolResultEvent extends EventBase {
  type: "user.tool_result";
  tool_use_id?: string;
  content?: Content;
  is_error?: boolean;
}

/** `user.define_outcome`. */
export interface UserDefineOutcomeEvent extends EventBase {
  type: "user.define_outcome";
  description?: string;
  rubric?: unknown;
  max_iterations?: number;
}

// --- System and agent events -----------------------------------------------------------------

/** `system.message`. */
export interface SystemMessageEvent extends EventBase {
  type: "system.message";
  content?: Content;
}

/** `agent.message`. */
export interface AgentMessageEvent extends EventBase {
  type: "agent.message";
  content?: Content;
}

/** `agent.thinking`. */
export interface AgentThinkingEvent extends EventBase {
  type: "agent.thinking";
  content?: Content;
}

/** `agent.tool_use`: the agent uses a built-in tool. */
export interface AgentToolUseEvent extends EventBase {
  type: "agent.tool_use";
  name?: string;
  input?: unknown;
}

/** `agent.tool_result`. */
export interface AgentToolResultEvent extends EventBase {
  type: "agent.tool_result";
  tool_use_id?: string;
  content?: Content;
  is_error?: boolean;
}

/** `agent.mcp_tool_use`: the agent uses a tool of an MCP server. */
export interface AgentMcpToolUseEvent extends EventBase {
  type: "agent.mcp_tool_use";
  name?: string;
  input?: unknown;
  mcp_server_name?: string;
}

/** `agent.mcp_tool_result`. */
export interface AgentMcpToolResultEvent extends EventBase {
  type: "agent.mcp_tool_result";
  mcp_tool_use_id?: string;
  content?: Content;
  is_error?: boolean;
}

/** `agent.custom_tool_use`: answer it with a `user.custom_tool_result`. */
export interface AgentCustomToolUseEvent extends EventBase {
  type: "agent.custom_tool_use";
  name?: string;
  input?: unknown;
}

// --- Session events --------------------------------------------------------------------------

/** `session.status_running`. */
export interface SessionStatusRunningEvent extends EventBase {
  type: "session.status_running";
}

/** `session.status_idle`. */
export interface SessionStatusIdleEvent extends EventBase {
  type: "session.status_idle";
  stop_reason?: StopReason;
}

/** `session.status_rescheduled`. */
export interface SessionStatusRescheduledEvent extends EventBase {
  type: "session.status_rescheduled";
}

/** `session.status_terminated`. */
export interface SessionStatusTerminatedEvent extends EventBase {
  type: "session.status_terminated";
}

/** `session.error`. */
export interface SessionErrorEvent extends EventBase {
  type: "session.error";
  error?: SessionErrorInfo;
}

/** `session.deleted`: every stream of the session is over. */
export interface SessionDeletedEvent extends EventBase {
  type: "session.deleted";
}

/** `session.updated`. */
export interface SessionUpdatedEvent extends EventBase {
  type: "session.updated";
}

/** `session.usage`. */
export interface SessionUsageEvent extends EventBase {
  type: "session.usage";
}

// --- Spans -----------------------------------------------------------------------------------

/** `span.model_request_start`. */
export interface SpanModelRequestStartEvent extends EventBase {
  type: "span.model_request_start";
}

/** `span.model_request_end`. */
export interface SpanModelRequestEndEvent extends EventBase {
  type: "span.model_request_end";
  model_request_start_id?: string;
  is_error?: boolean;
  model_usage?: ModelUsage;
}

/** `span.outcome_evaluation_start`. */
export interface SpanOutcomeEvaluationStartEvent extends EventBase {
  type: "span.outcome_evaluation_start";
}

/** `span.outcome_evaluation_ongoing`. */
export interface SpanOutcomeEvaluationOngoingEvent extends EventBase {
  type: "span.outcome_evaluation_ongoing";
}

/** `span.outcome_evaluation_end`. */
export interface SpanOutcomeEvaluationEndEvent extends EventBase {
  type: "span.outcome_evaluation_end";
}

// --- Previews (opt-in with `event_deltas[]`) -------------------------------------------------

/** `event_start`: a preview began; the final event with the same id replaces it. */
export interface EventStartEvent extends EventBase {
  type: "event_start";
  event_id?: string;
}

/** `event_delta`: a piece of a previewed event. */
export interface EventDeltaEvent extends EventBase {
  type: "event_delta";
  event_id?: string;
  delta?: ContentDelta;
}

// --- Unions and the type map -----------------------------------------------------------------

/** From event type name to its interface: `on<K extends EventType>(type: K, cb: (e: EventMap[K]) => void)`. */
export interface EventMap {
  "session.thread_created": ThreadCreatedEvent;
  "session.thread_status_running": ThreadStatusRunningEvent;
  "session.thread_status_idle": ThreadStatusIdleEvent;
  "session.thread_status_terminated": ThreadStatusTerminatedEvent;
  "session.thread_status_rescheduled": ThreadStatusRescheduledEvent;
  "agent.thread_message_sent": ThreadMessageSentEvent;
  "agent.thread_message_received": ThreadMessageReceivedEvent;
  "agent.thread_context_compacted": ThreadContextCompactedEvent;
  "user.message": UserMessageEvent;
  "user.interrupt": UserInterruptEvent;
  "user.tool_confirmation": UserToolConfirmationEvent;
  "user.custom_tool_result": UserCustomToolResultEvent;
  "user.tool_result": UserToolResultEvent;
  "user.define_outcome": UserDefineOutcomeEvent;
  "system.message": SystemMessageEvent;
  "agent.message": AgentMessageEvent;
  "agent.thinking": AgentThinkingEvent;
  "agent.tool_use": AgentToolUseEvent;
  "agent.tool_result": AgentToolResultEvent;
  "agent.mcp_tool_use": AgentMcpToolUseEvent;
  "agent.mcp_tool_result": AgentMcpToolResultEvent;
  "agent.custom_tool_use": AgentCustomToolUseEvent;
  "session.status_running": SessionStatusRunningEvent;
  "session.status_idle": SessionStatusIdleEvent;
  "session.status_rescheduled": SessionStatusRescheduledEvent;
  "session.status_terminated": SessionStatusTerminatedEvent;
  "session.error": SessionErrorEvent;
  "session.deleted": SessionDeletedEvent;
  "session.updated": SessionUpdatedEvent;
  "session.usage": SessionUsageEvent;
  "span.model_request_start": SpanModelRequestStartEvent;
  "span.model_request_end": SpanModelRequestEndEvent;
  "span.outcome_evaluation_start": SpanOutcomeEvaluationStartEvent;
  "span.outcome_evaluation_ongoing": SpanOutcomeEvaluationOngoingEvent;
  "span.outcome_evaluation_end": SpanOutcomeEvaluationEndEvent;
  "event_start": EventStartEvent;
  "event_delta": EventDeltaEvent;
}

/** Every event type name this version types. */
export type EventType = keyof EventMap;

/** Every event this version types; a discriminated union on `type`. */
export type KnownEvent =
  | ThreadCreatedEvent
  | ThreadStatusRunningEvent
  | ThreadStatusIdleEvent
  | ThreadStatusTerminatedEvent
  | ThreadStatusRescheduledEvent
  | ThreadMessageSentEvent
  | ThreadMessageReceivedEvent
  | ThreadContextCompactedEvent
  | UserMessageEvent
  | UserInterruptEvent
  | UserToolConfirmationEvent
  | UserCustomToolResultEvent
  | UserToolResultEvent
  | UserDefineOutcomeEvent
  | SystemMessageEvent
  | AgentMessageEvent
  | AgentThinkingEvent
  | AgentToolUseEvent
  | AgentToolResultEvent
  | AgentMcpToolUseEvent
  | AgentMcpToolResultEvent
  | AgentCustomToolUseEvent
  | SessionStatusRunningEvent
  | SessionStatusIdleEvent
  | SessionStatusRescheduledEvent
  | SessionStatusTerminatedEvent
  | SessionErrorEvent
  | SessionDeletedEvent
  | SessionUpdatedEvent
  | SessionUsageEvent
  | SpanModelRequestStartEvent
  | SpanModelRequestEndEvent
  | SpanOutcomeEvaluationStartEvent
  | SpanOutcomeEvaluationOngoingEvent
  | SpanOutcomeEvaluationEndEvent
  | EventStartEvent
  | EventDeltaEvent;

/**
 * An event of a type this version does not know, delivered as received.
 *
 * It declares every field of the known events with the same type (a TypeScript union cannot
 * exclude the known names from a `string` tag, so after `case "agent.message":` an event is
 * `AgentMessageEvent | UnknownEvent`; declaring the known fields here keeps `e.content`
 * typed as `Content | undefined` there, and a misspelt field still an error). Other fields
 * are `unknown`: `case "some.new_type": e.anything` compiles.
 */
export interface UnknownEvent
  extends EventBase,
    Omit<ThreadCreatedEvent, "type">,
    Omit<ThreadStatusRunningEvent, "type">,
    Omit<ThreadStatusIdleEvent, "type">,
    Omit<ThreadStatusTerminatedEvent, "type">,
    Omit<ThreadStatusRescheduledEvent, "type">,
    Omit<ThreadMessageSentEvent, "type">,
    Omit<ThreadMessageReceivedEvent, "type">,
    Omit<ThreadContextCompactedEvent, "type">,
    Omit<UserMessageEvent, "type">,
    Omit<UserInterruptEvent, "type">,
    Omit<UserToolConfirmationEvent, "type">,
    Omit<UserCustomToolResultEvent, "type">,
    Omit<UserToolResultEvent, "type">,
    Omit<UserDefineOutcomeEvent, "type">,
    Omit<SystemMessageEvent, "type">,
    Omit<AgentMessageEvent, "type">,
    Omit<AgentThinkingEvent, "type">,
    Omit<AgentToolUseEvent, "type">,
    Omit<AgentToolResultEvent, "type">,
    Omit<AgentMcpToolUseEvent, "type">,
    Omit<AgentMcpToolResultEvent, "type">,
    Omit<AgentCustomToolUseEvent, "type">,
    Omit<SessionStatusRunningEvent, "type">,
    Omit<SessionStatusIdleEvent, "type">,
    Omit<SessionStatusRescheduledEvent, "type">,
    Omit<SessionStatusTerminatedEvent, "type">,
    Omit<SessionErrorEvent, "type">,
    Omit<SessionDeletedEvent, "type">,
    Omit<SessionUpdatedEvent, "type">,
    Omit<SessionUsageEvent, "type">,
    Omit<SpanModelRequestStartEvent, "type">,
    Omit<SpanModelRequestEndEvent, "type">,
    Omit<SpanOutcomeEvaluationStartEvent, "type">,
    Omit<SpanOutcomeEvaluationOngoingEvent, "type">,
    Omit<SpanOutcomeEvaluationEndEvent, "type">,
    Omit<EventStartEvent, "type">,
    Omit<EventDeltaEvent, "type"> {
  /** A plain `string` (not `string & {}`): that keeps `switch (e.type)` narrowing. */
  type: string;
  [key: string]: unknown;
}

/** Any event of a stream: narrow with `switch (e.type)`. */
export type ThreadEvent = KnownEvent | UnknownEvent;

/** The agent of a `Thread` list item. */
export interface ThreadAgent {
  id?: string;
  name?: string;
  version?: number;
  [key: string]: unknown;
}

/** An item of "list session threads" (`GET .../sessions/{sid}/threads`). */
export interface Thread {
  /** `sthr_…`. */
  id: string;
  type: "session_thread";
  session_id: string;
  /** `null` for the coordinator (primary) thread. */
  parent_thread_id: string | null;
  agent?: ThreadAgent;
  agent_name?: string;
  role?: Role;
  status: ThreadStatus;
  stop_reason?: StopReason | null;
  created_at: string;
  updated_at: string;
}
