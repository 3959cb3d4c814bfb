//! [`Event`]: the common envelope, the typed payload and the fields kept as received.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::content::Content;
use super::payload::Payload;
use super::record::{put, take, Object};
use super::stop_reason::StopReason;
use super::values::ThreadStatus;

/// The wire names of the common envelope fields, which every event type may carry.
pub const ENVELOPE_FIELDS: &[&str] = &[
    "id",
    "type",
    "schema_version",
    "session_id",
    "session_thread_id",
    "turn_id",
    "created_at",
    "processed_at",
];

/// One event of a thread (or session) stream.
///
/// The envelope fields are typed here; the fields specific to the event type are in
/// [`payload`](Event::payload); every other key is in [`extra`](Event::extra).
///
/// # Tolerance
/// Only `type` is required. A field whose value has an unexpected JSON type (say
/// `agent_version` as a string), or is `null`, does not fail the event: its typed field is
/// `None` and the raw value stays in `extra` under its wire name. Serialising an event writes
/// `extra` first and the typed fields over it, so it gives back the object that was received.
///
/// The one exception is `id` and `type` taken from the SSE frame: when the JSON lacks them (or
/// has a non-string value) the SSE `id:` / `event:` values fill them and are written back.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `id`: the event id (`evt_…`, `sevt_…`), from the JSON or else the SSE `id:` line.
    pub id: Option<String>,
    /// `type`: the event type, from the JSON or else the SSE `event:` name.
    pub event_type: String,
    /// `schema_version`, such as `"1.0"`.
    pub schema_version: Option<String>,
    /// `session_id`.
    pub session_id: Option<String>,
    /// `session_thread_id`: the thread the event belongs to.
    pub session_thread_id: Option<String>,
    /// `turn_id`.
    pub turn_id: Option<String>,
    /// `created_at` (RFC 3339).
    pub created_at: Option<String>,
    /// `processed_at` (RFC 3339): `None` when absent, `Some(None)` when `null` (a user event
    /// still queued), `Some(Some(time))` once processed.
    pub processed_at: Option<Option<String>>,
    /// The typed fields of the event type; [`Payload::Unknown`] for an unknown type.
    pub payload: Payload,
    /// Every other key, as received: unknown fields, and known ones whose value had an
    /// unexpected JSON type or was `null`.
    pub extra: Object,
}

impl Event {
    /// Builds an event from a JSON object; never fails.
    ///
    /// `fallback_type` is used when the object has no string `type` (the SSE `event:` name),
    /// `fallback_id` when it has no string `id` (the SSE `id:` line).
    pub fn from_object(mut map: Object, fallback_type: &str, fallback_id: Option<&str>) -> Event {
        let event_type = take::<String>(&mut map, "type")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| fallback_type.to_owned());
        let id = take::<String>(&mut map, "id").or_else(|| fallback_id.map(str::to_owned));
        let processed_at = match map.get("processed_at") {
            Some(Value::Null) => {
                map.remove("processed_at");
                Some(None)
            }
            _ => take::<String>(&mut map, "processed_at").map(Some),
        };
        Event {
            id,
            schema_version: take(&mut map, "schema_version"),
            session_id: take(&mut map, "session_id"),
            session_thread_id: take(&mut map, "session_thread_id"),
            turn_id: take(&mut map, "turn_id"),
            created_at: take(&mut map, "created_at"),
            processed_at,
            payload: Payload::read(&event_type, &mut map),
            event_type,
            extra: map,
        }
    }

    /// The event as a JSON object, with wire names: `extra`, then every typed field over it.
    pub fn to_object(&self) -> Object {
        let mut map = self.extra.clone();
        map.insert("type".to_owned(), Value::from(self.event_type.as_str()));
        put(&mut map, "id", &self.id);
        put(&mut map, "schema_version", &self.schema_version);
        put(&mut map, "session_id", &self.session_id);
        put(&mut map, "session_thread_id", &self.session_thread_id);
        put(&mut map, "turn_id", &self.turn_id);
        put(&mut map, "created_at", &self.created_at);
        match &self.processed_at {
            Some(None) => {
                map.insert("processed_at".to_owned(), Value::Null);
            }
            Some(Some(at)) => {
                map.insert("processed_at".to_owned(), Value::from(at.as_str()));
            }
            None => {}
        }
        self.payload.write(&mut map);
        map
    }

    /// The thread the event belongs to (`session_thread_id`).
    pub fn thread_id(&self) -> Option<&str> {
        self.session_thread_id.as_deref()
    }

    /// Whether the event ends a thread stream (see [`is_terminal_type`](super::is_terminal_type)).
    pub fn is_terminal(&self) -> bool {
        super::is_terminal_type(&self.event_type)
    }

    /// Whether the event's type is one this version types (its payload is not
    /// [`Payload::Unknown`]).
    pub fn is_known(&self) -> bool {
        !matches!(self.payload, Payload::Unknown)
    }

    /// Whether the event is still queued (`processed_at` is `null`).
    pub fn is_queued(&self) -> bool {
        matches!(self.processed_at, Some(None))
    }

    /// The event's `content`, for the types that carry one.
    pub fn content(&self) -> Option<&Content> {
        self.payload.content()
    }

    /// The event's `stop_reason`, for the types that carry one.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.payload.stop_reason()
    }

    /// The thread `status`, for the `session.thread_status_*` types.
    pub fn status(&self) -> Option<&ThreadStatus> {
        self.payload.status()
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_object().serialize(serializer)
    }
}

/// Reads an event from a JSON object with a string `type` (a REST list item, say); as
/// tolerant as [`decode`](super::decode) for every other field.
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Object::deserialize(deserializer)?;
        match map.get("type") {
            Some(Value::String(t)) if !t.is_empty() => Ok(Event::from_object(map, "", None)),
            _ => Err(D::Error::missing_field("type")),
        }
    }
}
