//! `stop_reason`: why a thread or session went idle or ended, an object tagged by `type`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::record::Object;

/// Why a thread or session stopped: `{"type":"end_turn"}`,
/// `{"type":"requires_action","event_ids":[...]}`, and so on.
///
/// An open set: an unknown `type`, a missing `type`, or a `requires_action` without a usable
/// `event_ids` list is kept whole in [`StopReason::Other`]. Keys beside the documented ones are
/// kept in each variant's `extra`, so serialising gives back the object that was received. A
/// `stop_reason` that is not a JSON object at all stays in the event's `extra`.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// `end_turn`: the agent finished its turn.
    EndTurn {
        /// Keys beside `type`.
        extra: Object,
    },
    /// `requires_action`: the agent waits for the application to answer the listed events
    /// (a tool confirmation or a custom tool result).
    RequiresAction {
        /// The ids of the events that need an answer.
        event_ids: Vec<String>,
        /// Keys beside `type` and `event_ids`.
        extra: Object,
    },
    /// `retries_exhausted`: the agent gave up after repeated failures.
    RetriesExhausted {
        /// Keys beside `type`.
        extra: Object,
    },
    /// `budget_reached`: a token or cost budget ran out.
    BudgetReached {
        /// Keys beside `type`.
        extra: Object,
    },
    /// `archive`: the thread was archived.
    Archive {
        /// Keys beside `type`.
        extra: Object,
    },
    /// Any other stop reason, kept as the raw object.
    Other(Object),
}

impl StopReason {
    /// Every `type` this version knows.
    pub const KNOWN: &'static [&'static str] = &[
        "end_turn",
        "requires_action",
        "retries_exhausted",
        "budget_reached",
        "archive",
    ];

    /// The `type` tag, when there is one that is a string.
    pub fn type_name(&self) -> Option<&str> {
        match self {
            StopReason::EndTurn { .. } => Some("end_turn"),
            StopReason::RequiresAction { .. } => Some("requires_action"),
            StopReason::RetriesExhausted { .. } => Some("retries_exhausted"),
            StopReason::BudgetReached { .. } => Some("budget_reached"),
            StopReason::Archive { .. } => Some("archive"),
            StopReason::Other(raw) => raw.get("type").and_then(Value::as_str),
        }
    }

    /// The events waiting for an answer, for `requires_action`.
    pub fn event_ids(&self) -> Option<&[String]> {
        match self {
            StopReason::RequiresAction { event_ids, .. } => Some(event_ids),
            _ => None,
        }
    }

    /// Reads a stop reason from its object; never fails.
    pub fn from_object(mut map: Object) -> StopReason {
        let tag = match map.get("type").and_then(Value::as_str) {
            Some(tag) => tag.to_owned(),
            None => return StopReason::Other(map),
        };
        if tag == "requires_action" {
            let ids = map
                .get("event_ids")
                .and_then(|ids| Vec::<String>::deserialize(ids).ok());
            return match ids {
                Some(event_ids) => {
                    map.remove("type");
                    map.remove("event_ids");
                    StopReason::RequiresAction {
                        event_ids,
                        extra: map,
                    }
                }
                None => StopReason::Other(map),
            };
        }
        let variant: fn(Object) -> StopReason = match tag.as_str() {
            "end_turn" => |extra| StopReason::EndTurn { extra },
            "retries_exhausted" => |extra| StopReason::RetriesExhausted { extra },
            "budget_reached" => |extra| StopReason::BudgetReached { extra },
            "archive" => |extra| StopReason::Archive { extra },
            _ => return StopReason::Other(map),
        };
        map.remove("type");
        variant(map)
    }

    /// The object as on the wire.
    pub fn to_object(&self) -> Object {
        let (extra, tag) = match self {
            StopReason::Other(raw) => return raw.clone(),
            StopReason::RequiresAction { event_ids, extra } => {
                let mut map = extra.clone();
                map.insert(
                    "event_ids".to_owned(),
                    Value::Array(event_ids.iter().cloned().map(Value::String).collect()),
                );
                map.insert("type".to_owned(), Value::from("requires_action"));
                return map;
            }
            StopReason::EndTurn { extra } => (extra, "end_turn"),
            StopReason::RetriesExhausted { extra } => (extra, "retries_exhausted"),
            StopReason::BudgetReached { extra } => (extra, "budget_reached"),
            StopReason::Archive { extra } => (extra, "archive"),
        };
        let mut map = extra.clone();
        map.insert("type".to_owned(), Value::from(tag));
        map
    }
}

impl Serialize for StopReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_object().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StopReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Object(map) => Ok(StopReason::from_object(map)),
            _ => Err(D::Error::custom("stop_reason must be an object")),
        }
    }
}
