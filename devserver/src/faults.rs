//! Faults armed through `/_control/faults` for the next N stream connections, and through
//! `/_control/list-faults` for the next N requests of the list routes.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What to break, and for how many stream connections.
///
/// Every field but `count` is optional; they combine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Number of stream connections the faults apply to.
    pub count: u32,
    /// End the body after exactly this many bytes (cutting mid-line or mid-character).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_after_bytes: Option<u64>,
    /// Write the body in pieces of at most this many bytes, each its own frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_bytes: Option<usize>,
    /// Sleep this long before every write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_delay_ms: Option<u64>,
    /// Answer this status with an error body instead of the stream (204: empty body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Answer the stream with this (wrong) `Content-Type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Send `retry: <ms>` as the first line of the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_ms: Option<u64>,
    /// Send the headers, then nothing for this long before the body starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall_ms: Option<u64>,
    /// With `close_after_bytes`: abort the connection (no terminating chunk) instead of ending
    /// the body cleanly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort: Option<bool>,
}

impl FaultSpec {
    /// Checks the values that would make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.chunk_bytes == Some(0) {
            return Err("'chunk_bytes' must be > 0.".into());
        }
        if let Some(s) = self.status {
            if !(200..=599).contains(&s) {
                return Err("'status' must be an HTTP status between 200 and 599.".into());
            }
        }
        if let Some(ct) = &self.content_type {
            if axum::http::HeaderValue::from_str(ct).is_err() {
                return Err("'content_type' is not a valid header value.".into());
            }
        }
        Ok(())
    }
}

/// What to break on the list routes (`GET .../threads`, `GET .../threads/{tid}/events`), and
/// for how many requests.
///
/// Every field but `count` is optional; `status` wins over `repeat_cursor`, `delay_ms` applies
/// to either.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListFaultSpec {
    /// Number of list requests the faults apply to.
    pub count: u32,
    /// Answer this status (400..=599) with the matching error body instead of the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Sleep this long before answering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Answer the normal page, but with `next_page` set to the cursor that was requested (the
    /// first page's cursor when none was), and `has_more: true`: a client following
    /// `next_page` loops forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_cursor: Option<bool>,
}

/// Longest `delay_ms` accepted (10 minutes).
pub const MAX_LIST_DELAY_MS: u64 = 600_000;

impl ListFaultSpec {
    /// Checks the values that would make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(s) = self.status {
            if !(400..=599).contains(&s) {
                return Err("'status' must be an HTTP error status between 400 and 599.".into());
            }
        }
        if self.retry_after.is_some() && self.status.is_none() {
            return Err("'retry_after' needs 'status'.".into());
        }
        if self.delay_ms.is_some_and(|d| d > MAX_LIST_DELAY_MS) {
            return Err(format!("'delay_ms' must be <= {MAX_LIST_DELAY_MS}."));
        }
        Ok(())
    }
}

/// A fault spec armed for a number of requests.
pub trait Counted: Clone {
    /// The number of requests left.
    fn count_mut(&mut self) -> &mut u32;
}

impl Counted for FaultSpec {
    fn count_mut(&mut self) -> &mut u32 {
        &mut self.count
    }
}

impl Counted for ListFaultSpec {
    fn count_mut(&mut self) -> &mut u32 {
        &mut self.count
    }
}

/// The armed faults: [`FaultSpec`] for the stream routes (the default), [`ListFaultSpec`] for
/// the list routes.
#[derive(Debug)]
pub struct Faults<S = FaultSpec> {
    armed: Mutex<Option<S>>,
}

impl<S> Default for Faults<S> {
    fn default() -> Self {
        Faults {
            armed: Mutex::new(None),
        }
    }
}

impl<S: Counted> Faults<S> {
    /// Arms `spec` (replacing what was armed); returns the number of requests armed.
    pub fn arm(&self, mut spec: S) -> u32 {
        let n = *spec.count_mut();
        *self.lock() = (n > 0).then_some(spec);
        n
    }

    /// Disarms everything.
    pub fn disarm(&self) {
        *self.lock() = None;
    }

    /// What is armed now.
    pub fn current(&self) -> Option<S> {
        self.lock().clone()
    }

    /// Takes the faults for one request, counting it.
    pub fn take(&self) -> Option<S> {
        let mut armed = self.lock();
        let spec = armed.as_mut()?;
        let taken = spec.clone();
        let count = spec.count_mut();
        *count -= 1;
        if *count == 0 {
            *armed = None;
        }
        Some(taken)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<S>> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down() {
        let f = Faults::default();
        assert_eq!(
            f.arm(FaultSpec {
                count: 2,
                stall_ms: Some(5),
                ..Default::default()
            }),
            2
        );
        assert!(f.take().is_some());
        assert!(f.take().is_some());
        assert!(f.take().is_none());
        f.arm(FaultSpec {
            count: 1,
            ..Default::default()
        });
        f.disarm();
        assert!(f.take().is_none());
    }

    #[test]
    fn list_faults_count_down_and_validate() {
        let f = Faults::<ListFaultSpec>::default();
        let spec: ListFaultSpec =
            serde_json::from_str(r#"{"count":2,"status":503,"retry_after":1}"#).unwrap();
        assert_eq!(spec.validate(), Ok(()));
        assert_eq!(f.arm(spec.clone()), 2);
        assert_eq!(f.take().map(|s| s.count), Some(2));
        assert_eq!(f.current().map(|s| s.count), Some(1));
        assert_eq!(f.take().map(|s| s.status), Some(Some(503)));
        assert!(f.take().is_none());
        assert_eq!(f.arm(ListFaultSpec::default()), 0);
        assert!(f.current().is_none());
        for bad in [
            r#"{"count":1,"status":200}"#,
            r#"{"count":1,"retry_after":1}"#,
            r#"{"count":1,"delay_ms":600001}"#,
        ] {
            let s: ListFaultSpec = serde_json::from_str(bad).unwrap();
            assert!(s.validate().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<ListFaultSpec>(r#"{"count":1,"nope":1}"#).is_err());
    }
}
