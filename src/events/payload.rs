//! The payload of each known event type: the fields beyond the common envelope.
//!
//! Every field is an `Option`: `None` when the event lacks it, when it is `null`, or when its
//! value has an unexpected JSON type (the raw value then stays in [`Event::extra`]).
//!
//! [`Event::extra`]: super::Event::extra

use serde_json::Value;

use super::content::{Content, ContentBlock};
use super::record::{nested_record, record, Object, Record};
use super::stop_reason::StopReason;
use super::values::{Direction, Role, ThreadStatus};

// ---------------------------------------------------------------------------------------------
// Thread events.

record! {
    /// `session.thread_created`: a new child thread was created.
    pub struct ThreadCreated {
        /// The thread that created this one (the coordinator).
        parent_thread_id: String,
        /// The agent that runs in the new thread.
        agent_id: String,
        /// The version of that agent.
        agent_version: u64,
        /// The agent's display name.
        agent_name: String,
        /// The new thread's role, `child` as a rule.
        role: Role,
        /// The coordinator's tool use that created the thread.
        created_by_tool_use_id: String,
    }
}

record! {
    /// `session.thread_status_running`: the thread started running.
    pub struct ThreadStatusRunning {
        /// The agent's display name.
        agent_name: String,
        /// The new status, `running`.
        status: ThreadStatus,
    }
}

record! {
    /// `session.thread_status_idle`: the thread went back to idle.
    pub struct ThreadStatusIdle {
        /// The new status, `idle`.
        status: ThreadStatus,
        /// Why it stopped.
        stop_reason: StopReason,
    }
}

record! {
    /// `session.thread_status_terminated`: the thread was archived or terminated; the thread
    /// stream is over.
    pub struct ThreadStatusTerminated {
        /// The new status, `terminated` or `archived`.
        status: ThreadStatus,
        /// Why it ended.
        stop_reason: StopReason,
    }
}

record! {
    /// `session.thread_status_rescheduled` (provider B): the thread is being rescheduled and
    /// resumes by itself.
    pub struct ThreadStatusRescheduled {
        /// The new status, `rescheduling`.
        status: ThreadStatus,
    }
}

record! {
    /// `agent.thread_context_compacted` (provider B): the thread's context was compacted.
    /// No field is documented; everything the server sends is in `extra`.
    pub struct ThreadContextCompacted {}
}

record! {
    /// `agent.thread_message_sent`: a message was sent to another thread (on the sender's
    /// stream).
    pub struct ThreadMessageSent {
        /// Which way the message goes.
        direction: Direction,
        /// The message.
        content: Content,
        /// The sending thread.
        from_session_thread_id: String,
        /// The receiving thread.
        to_session_thread_id: String,
        /// The receiving agent's name (provider B).
        to_agent_name: String,
    }
}

record! {
    /// `agent.thread_message_received`: a message from another thread was received (on the
    /// receiver's stream).
    pub struct ThreadMessageReceived {
        /// Which way the message goes.
        direction: Direction,
        /// The message.
        content: Content,
        /// Whether the message reports a failure.
        is_error: bool,
        /// The sending thread.
        from_session_thread_id: String,
        /// The receiving thread.
        to_session_thread_id: String,
        /// The sending agent's name (provider B).
        from_agent_name: String,
    }
}

// ---------------------------------------------------------------------------------------------
// User events.

record! {
    /// `user.message`: the user sent a message.
    pub struct UserMessage {
        /// The message.
        content: Content,
    }
}

record! {
    /// `user.interrupt`: the user interrupted the agent.
    pub struct UserInterrupt {}
}

record! {
    /// `user.tool_confirmation`: the user allowed or denied a tool use.
    pub struct UserToolConfirmation {
        /// The id of the `agent.tool_use` or `agent.mcp_tool_use` event answered.
        tool_use_id: String,
        /// `allow` or `deny`.
        result: String,
        /// Why the use was denied.
        deny_message: String,
    }
}

record! {
    /// `user.custom_tool_result`: the application answered a custom tool use.
    pub struct UserCustomToolResult {
        /// The id of the `agent.custom_tool_use` event answered.
        custom_tool_use_id: String,
        /// The result.
        content: Content,
        /// Whether the tool failed.
        is_error: bool,
    }
}

record! {
    /// `user.tool_result`: the user supplied a tool's result.
    pub struct UserToolResult {
        /// The tool use answered.
        tool_use_id: String,
        /// The result.
        content: Content,
        /// Whether the tool failed.
        is_error: bool,
    }
}

record! {
    /// `user.define_outcome`: the user defined the outcome the agent works towards.
    pub struct UserDefineOutcome {
        /// What the outcome is.
        description: String,
        /// How it is graded, as received.
        rubric: Value,
        /// How many evaluation rounds are allowed.
        max_iterations: u64,
    }
}

// ---------------------------------------------------------------------------------------------
// System and agent events.

record! {
    /// `system.message`: a message from the system.
    pub struct SystemMessage {
        /// The message.
        content: Content,
    }
}

record! {
    /// `agent.message`: the agent said something.
    pub struct AgentMessage {
        /// The message.
        content: Content,
    }
}

record! {
    /// `agent.thinking`: the agent's extended thinking.
    pub struct AgentThinking {
        /// The thinking.
        content: Content,
    }
}

record! {
    /// `agent.tool_use`: the agent uses a built-in tool.
    pub struct AgentToolUse {
        /// The tool's name.
        name: String,
        /// The tool's input, as received.
        input: Value,
    }
}

record! {
    /// `agent.tool_result`: a built-in tool's result.
    pub struct AgentToolResult {
        /// The `agent.tool_use` event answered.
        tool_use_id: String,
        /// The result.
        content: Content,
        /// Whether the tool failed.
        is_error: bool,
    }
}

record! {
    /// `agent.mcp_tool_use`: the agent uses a tool of an MCP server.
    pub struct AgentMcpToolUse {
        /// The tool's name.
        name: String,
        /// The tool's input, as received.
        input: Value,
        /// The MCP server that provides the tool.
        mcp_server_name: String,
    }
}

record! {
    /// `agent.mcp_tool_result`: an MCP tool's result.
    pub struct AgentMcpToolResult {
        /// The `agent.mcp_tool_use` event answered.
        mcp_tool_use_id: String,
        /// The result.
        content: Content,
        /// Whether the tool failed.
        is_error: bool,
    }
}

record! {
    /// `agent.custom_tool_use`: the agent uses a custom tool that the application must run and
    /// answer with `user.custom_tool_result`.
    pub struct AgentCustomToolUse {
        /// The tool's name.
        name: String,
        /// The tool's input, as received.
        input: Value,
    }
}

// ---------------------------------------------------------------------------------------------
// Session events.

record! {
    /// `session.status_running`: the session started running.
    pub struct SessionStatusRunning {}
}

record! {
    /// `session.status_idle`: the session went idle.
    pub struct SessionStatusIdle {
        /// Why it stopped.
        stop_reason: StopReason,
    }
}

record! {
    /// `session.status_rescheduled`: the session is being rescheduled.
    pub struct SessionStatusRescheduled {}
}

record! {
    /// `session.status_terminated`: the session ended.
    pub struct SessionStatusTerminated {}
}

nested_record! {
    /// The `retry_status` of a [`SessionErrorInfo`].
    pub struct RetryStatus {
        /// The retry state, for example `retrying` or `exhausted`.
        status_type as "type": String,
    }
}

nested_record! {
    /// The `error` object of a `session.error` event.
    pub struct SessionErrorInfo {
        /// The error's category.
        error_type as "type": String,
        /// What happened.
        message: String,
        /// Whether and how the server retries.
        retry_status: RetryStatus,
    }
}

record! {
    /// `session.error`: the session hit an error.
    pub struct SessionError {
        /// The error.
        error: SessionErrorInfo,
    }
}

record! {
    /// `session.deleted`: the session was deleted; every stream of it is over.
    pub struct SessionDeleted {}
}

record! {
    /// `session.updated`: the session's settings changed. No field is documented; everything
    /// the server sends is in `extra`.
    pub struct SessionUpdated {}
}

record! {
    /// `session.usage`: the session's token usage. No field is documented; everything the
    /// server sends is in `extra`.
    pub struct SessionUsage {}
}

// ---------------------------------------------------------------------------------------------
// Spans.

record! {
    /// `span.model_request_start`: a model request began.
    pub struct SpanModelRequestStart {}
}

nested_record! {
    /// The `model_usage` of a `span.model_request_end` event, in tokens.
    pub struct ModelUsage {
        /// Input tokens not read from or written to the cache.
        input_tokens: u64,
        /// Output tokens.
        output_tokens: u64,
        /// Input tokens written to the cache.
        cache_creation_input_tokens: u64,
        /// Input tokens read from the cache.
        cache_read_input_tokens: u64,
    }
}

record! {
    /// `span.model_request_end`: a model request ended.
    pub struct SpanModelRequestEnd {
        /// The `span.model_request_start` event this ends.
        model_request_start_id: String,
        /// Whether the request failed.
        is_error: bool,
        /// The tokens used.
        model_usage: ModelUsage,
    }
}

record! {
    /// `span.outcome_evaluation_start`: an outcome evaluation began.
    pub struct SpanOutcomeEvaluationStart {}
}

record! {
    /// `span.outcome_evaluation_ongoing`: an outcome evaluation is in progress.
    pub struct SpanOutcomeEvaluationOngoing {}
}

record! {
    /// `span.outcome_evaluation_end`: an outcome evaluation ended.
    pub struct SpanOutcomeEvaluationEnd {}
}

// ---------------------------------------------------------------------------------------------
// Previews (opt-in with `event_deltas[]`).

record! {
    /// `event_start`: a preview of an event began; the final event with the same id replaces
    /// it.
    pub struct EventStart {
        /// The id of the event being previewed.
        event_id: String,
    }
}

nested_record! {
    /// The `delta` of an `event_delta` event.
    pub struct ContentDelta {
        /// The delta's kind, `content_delta`.
        delta_type as "type": String,
        /// The piece of content to append, for example a `text` block.
        content: ContentBlock,
    }
}

record! {
    /// `event_delta`: a piece of a previewed event.
    pub struct EventDelta {
        /// The id of the event being previewed.
        event_id: String,
        /// What to append.
        delta: ContentDelta,
    }
}

// ---------------------------------------------------------------------------------------------
// The table of event types.

macro_rules! payloads {
    ($($variant:ident = $wire:literal),* $(,)?) => {
        /// The typed part of an [`Event`](super::Event), one variant per known event type.
        ///
        /// Match on it in an application. An event type this version does not know is
        /// [`Payload::Unknown`]: all its fields are then in [`Event::extra`](super::Event::extra).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Payload {
            $(
                #[doc = concat!("`", $wire, "`.")]
                $variant($variant),
            )*
            /// An event type this version does not know.
            Unknown,
        }

        /// Every event type this version decodes into a typed [`Payload`].
        pub const KNOWN_TYPES: &[&str] = &[$($wire),*];

        /// The wire names of the payload fields that this version types for `event_type`
        /// (beyond the common envelope, see [`ENVELOPE_FIELDS`](super::ENVELOPE_FIELDS));
        /// `None` for an unknown type.
        pub fn known_fields(event_type: &str) -> Option<&'static [&'static str]> {
            match event_type {
                $($wire => Some(<$variant as Record>::FIELDS),)*
                _ => None,
            }
        }

        /// The Rust types of [`known_fields`], in the same order (for the drift test).
        #[cfg(test)]
        #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
        pub(crate) fn known_field_types(event_type: &str) -> Option<&'static [&'static str]> {
            match event_type {
                $($wire => Some(<$variant as Record>::FIELD_TYPES),)*
                _ => None,
            }
        }

        impl Payload {
            /// Moves the fields of `event_type`'s payload out of `map`.
            pub(crate) fn read(event_type: &str, map: &mut Object) -> Payload {
                match event_type {
                    $($wire => Payload::$variant(<$variant as Record>::read(map)),)*
                    _ => Payload::Unknown,
                }
            }

            /// Writes the payload's present fields into `map`.
            pub(crate) fn write(&self, map: &mut Object) {
                match self {
                    $(Payload::$variant(payload) => payload.write(map),)*
                    Payload::Unknown => {}
                }
            }

            /// The event type this payload belongs to; `None` for [`Payload::Unknown`].
            pub fn known_type(&self) -> Option<&'static str> {
                match self {
                    $(Payload::$variant(_) => Some($wire),)*
                    Payload::Unknown => None,
                }
            }
        }
    };
}

payloads! {
    ThreadCreated = "session.thread_created",
    ThreadStatusRunning = "session.thread_status_running",
    ThreadStatusIdle = "session.thread_status_idle",
    ThreadStatusTerminated = "session.thread_status_terminated",
    ThreadStatusRescheduled = "session.thread_status_rescheduled",
    ThreadMessageSent = "agent.thread_message_sent",
    ThreadMessageReceived = "agent.thread_message_received",
    ThreadContextCompacted = "agent.thread_context_compacted",
    UserMessage = "user.message",
    UserInterrupt = "user.interrupt",
    UserToolConfirmation = "user.tool_confirmation",
    UserCustomToolResult = "user.custom_tool_result",
    UserToolResult = "user.tool_result",
    UserDefineOutcome = "user.define_outcome",
    SystemMessage = "system.message",
    AgentMessage = "agent.message",
    AgentThinking = "agent.thinking",
    AgentToolUse = "agent.tool_use",
    AgentToolResult = "agent.tool_result",
    AgentMcpToolUse = "agent.mcp_tool_use",
    AgentMcpToolResult = "agent.mcp_tool_result",
    AgentCustomToolUse = "agent.custom_tool_use",
    SessionStatusRunning = "session.status_running",
    SessionStatusIdle = "session.status_idle",
    SessionStatusRescheduled = "session.status_rescheduled",
    SessionStatusTerminated = "session.status_terminated",
    SessionError = "session.error",
    SessionDeleted = "session.deleted",
    SessionUpdated = "session.updated",
    SessionUsage = "session.usage",
    SpanModelRequestStart = "span.model_request_start",
    SpanModelRequestEnd = "span.model_request_end",
    SpanOutcomeEvaluationStart = "span.outcome_evaluation_start",
    SpanOutcomeEvaluationOngoing = "span.outcome_evaluation_ongoing",
    SpanOutcomeEvaluationEnd = "span.outcome_evaluation_end",
    EventStart = "event_start",
    EventDelta = "event_delta",
}

impl Payload {
    /// The `content` of payloads that carry one.
    pub fn content(&self) -> Option<&Content> {
        match self {
            Payload::ThreadMessageSent(p) => p.content.as_ref(),
            Payload::ThreadMessageReceived(p) => p.content.as_ref(),
            Payload::UserMessage(p) => p.content.as_ref(),
            Payload::UserCustomToolResult(p) => p.content.as_ref(),
            Payload::UserToolResult(p) => p.content.as_ref(),
            Payload::SystemMessage(p) => p.content.as_ref(),
            Payload::AgentMessage(p) => p.content.as_ref(),
            Payload::AgentThinking(p) => p.content.as_ref(),
            Payload::AgentToolResult(p) => p.content.as_ref(),
            Payload::AgentMcpToolResult(p) => p.content.as_ref(),
            _ => None,
        }
    }

    /// The `stop_reason` of payloads that carry one.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        match self {
            Payload::ThreadStatusIdle(p) => p.stop_reason.as_ref(),
            Payload::ThreadStatusTerminated(p) => p.stop_reason.as_ref(),
            Payload::SessionStatusIdle(p) => p.stop_reason.as_ref(),
            _ => None,
        }
    }

    /// The thread `status` of payloads that carry one.
    pub fn status(&self) -> Option<&ThreadStatus> {
        match self {
            Payload::ThreadStatusRunning(p) => p.status.as_ref(),
            Payload::ThreadStatusIdle(p) => p.status.as_ref(),
            Payload::ThreadStatusTerminated(p) => p.status.as_ref(),
            Payload::ThreadStatusRescheduled(p) => p.status.as_ref(),
            _ => None,
        }
    }
}

/// The nested object types with their field names and Rust types, for the TypeScript drift test.
#[cfg(test)]
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) const NESTED_RECORDS: &[(&str, &[&str], &[&str])] = &[
    ("RetryStatus", RetryStatus::FIELDS, RetryStatus::FIELD_TYPES),
    (
        "SessionErrorInfo",
        SessionErrorInfo::FIELDS,
        SessionErrorInfo::FIELD_TYPES,
    ),
    ("ModelUsage", ModelUsage::FIELDS, ModelUsage::FIELD_TYPES),
    (
        "ContentDelta",
        ContentDelta::FIELDS,
        ContentDelta::FIELD_TYPES,
    ),
];
