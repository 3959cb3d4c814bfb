//! The REST list routes' pages: `{"data":[...],"next_page":...}` (some versions add
//! `first_id`, `last_id`, `has_more`). Pure: no browser types.

use crate::sse::SseEvent;
use serde::Deserialize;
use serde_json::Value;

/// One page of a list route.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// The events of the page, oldest first, as the stream would carry them.
    pub events: Vec<SseEvent>,
    /// The cursor of the next page, when there is one.
    pub next_page: Option<String>,
}

#[derive(Deserialize)]
struct WirePage {
    data: Vec<Value>,
    #[serde(default)]
    next_page: Option<Value>,
    #[serde(default)]
    has_more: Option<bool>,
}

/// Reads a page of thread events. Each item becomes an [`SseEvent`] with its `type` and `id`,
/// and its JSON text as `data`, so listed and streamed events go through the same delivery.
pub fn parse_page(body: &str) -> Result<EventPage, String> {
    let page: WirePage = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let mut events = Vec::with_capacity(page.data.len());
    for item in page.data {
        let Value::Object(map) = &item else {
            return Err(String::from("an item of `data` is not an object"));
        };
        let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
        let id = text("id");
        events.push(SseEvent {
            event_type: text("type").unwrap_or_else(|| String::from("message")),
            data: item.to_string(),
            id: id.clone(),
            last_event_id: id.unwrap_or_default(),
        });
    }
    let next_page = match (page.next_page, page.has_more) {
        (_, Some(false)) => None,
        (Some(Value::String(s)), _) if !s.is_empty() => Some(s),
        (Some(Value::Number(n)), _) => Some(n.to_string()),
        _ => None,
    };
    Ok(EventPage { events, next_page })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        let p = parse_page(r#"{"data":[{"id":"evt_1","type":"agent.message","content":"hi"},{"type":"x"}],"next_page":"c2"}"#).unwrap();
        assert_eq!(p.events.len(), 2);
        assert_eq!(p.events[0].id.as_deref(), Some("evt_1"));
        assert_eq!(p.events[0].event_type, "agent.message");
        assert_eq!(p.events[1].id, None);
        assert_eq!(p.next_page.as_deref(), Some("c2"));
        let last = parse_page(r#"{"data":[],"next_page":null}"#).unwrap();
        assert_eq!(last.next_page, None);
        let numbered = parse_page(r#"{"data":[],"next_page":3,"has_more":true}"#).unwrap();
        assert_eq!(numbered.next_page.as_deref(), Some("3"));
        let done = parse_page(r#"{"data":[],"next_page":"x","has_more":false}"#).unwrap();
        assert_eq!(done.next_page, None);
        assert!(parse_page(r#"{"data":[1]}"#).is_err());
        assert!(parse_page("<html>").is_err());
    }
}
