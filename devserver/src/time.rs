//! Timestamps as the API writes them: RFC 3339 in UTC with exactly three fractional digits,
//! `2026-06-15T08:01:00.123Z`.
//!
//! `jiff::Timestamp`'s `Display` is that format at precision 3 (digits truncated, never
//! trimmed: `.000` stays), so no format description is needed.

use jiff::Timestamp;

/// Formats a point in time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339_millis(t: Timestamp) -> String {
    format!("{t:.3}")
}

/// The current time, formatted by [`rfc3339_millis`].
pub fn now() -> String {
    rfc3339_millis(Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        for (millis, want) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_781_510_460_123, "2026-06-15T08:01:00.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (951_782_400_999, "2000-02-29T00:00:00.999Z"),
        ] {
            let t = Timestamp::from_millisecond(millis).unwrap();
            assert_eq!(rfc3339_millis(t), want);
        }
        // Sub-millisecond digits are cut, not rounded.
        let t = Timestamp::new(0, 999_999).unwrap();
        assert_eq!(rfc3339_millis(t), "1970-01-01T00:00:00.000Z");
        assert!(now().ends_with('Z') && now().len() == 24, "{}", now());
    }
}
