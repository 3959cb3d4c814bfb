//! RFC 3339 timestamps as instants, so that `created_at` values compare by time whatever their
//! number of fraction digits (`…:00Z`, `…:00.5Z`, `…:00.123456789Z`) and offset (`+09:00`).

/// A point in time: seconds since 1970-01-01T00:00:00Z, then nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Whole seconds since the Unix epoch (negative before it).
    pub seconds: i64,
    /// Nanoseconds within the second (fraction digits beyond nine are ignored).
    pub nanos: u32,
}

impl Instant {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `T` and `Z` in either case, or a
    /// space for `T` (RFC 3339, section 5.6 note). `None` for anything else.
    pub fn parse(text: &str) -> Option<Instant> {
        let b = text.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let digits = b.get(from..from + len)?;
            digits.iter().try_fold(0i64, |acc, &d| {
                d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
            })
        };
        let at = |i: usize, c: u8| b.get(i).map(u8::to_ascii_uppercase) == Some(c);
        if !(at(4, b'-')
            && at(7, b'-')
            && (at(10, b'T') || at(10, b' '))
            && at(13, b':')
            && at(16, b':'))
        {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        // A leap second (60) counts as the next second's start.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if at(i, b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return None;
            }
            nanos *= 10u32.pow(9u32.saturating_sub((i - start) as u32));
        }
        let offset = if at(i, b'Z') && i + 1 == b.len() {
            0
        } else if (at(i, b'+') || at(i, b'-')) && at(i + 3, b':') && i + 6 == b.len() {
            let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let sign = if at(i, b'-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        } else {
            return None;
        };
        let days = days_from_civil(year, month, day);
        Some(Instant {
            seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset,
            nanos,
        })
    }
}

impl Instant {
    /// Parses an HTTP date in the IMF-fixdate form every server must send
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 section 5.6.7); `None` for anything else.
    pub fn parse_http_date(text: &str) -> Option<Instant> {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let mut parts = text.split(' ');
        let (_weekday, day, month, year, time, zone) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if parts.next().is_some() || zone != "GMT" || day.len() != 2 || year.len() != 4 {
            return None;
        }
        let month = MONTHS.iter().position(|m| *m == month)? + 1;
        // The rest has the RFC 3339 shape.
        Instant::parse(&format!("{year}-{month:02}-{day}T{time}Z"))
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The order in which to deliver listed events: indexes into `times` sorted by instant, with
/// ties, and events without a readable time (last), in their listing order.
///
/// Why not `sort_unstable_by_key`: each `slice::sort*` instantiation brings 5-9 KB of wasm. The
/// keys here pack into one `u128` (bit 126 "no time", then the seconds made unsigned, the
/// nanoseconds and the index), and a heap sort of `u128`s is a few hundred bytes, still
/// O(n log n) for a long session history.
pub fn creation_order(times: &[Option<Instant>]) -> Vec<usize> {
    let mut keys: Vec<u128> = times
        .iter()
        .enumerate()
        .map(|(index, at)| {
            let time = match at {
                // Flipping the sign bit makes two's-complement seconds sort as unsigned.
                Some(at) => {
                    ((at.seconds as u64 ^ (1 << 63)) as u128) << 62 | (at.nanos as u128) << 32
                }
                None => 1 << 126,
            };
            time | index as u128
        })
        .collect();
    heap_sort(&mut keys);
    keys.into_iter().map(|key| key as u32 as usize).collect()
}

/// In-place ascending heap sort.
fn heap_sort(keys: &mut [u128]) {
    fn sift_down(keys: &mut [u128], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && keys[child + 1] > keys[child] {
                child += 1;
            }
            if keys[root] >= keys[child] {
                return;
            }
            keys.swap(root, child);
            root = child;
        }
    }
    for root in (0..keys.len() / 2).rev() {
        sift_down(keys, root, keys.len());
    }
    for end in (1..keys.len()).rev() {
        keys.swap(0, end);
        sift_down(keys, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Instant {
        Instant::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn the_epoch_and_known_dates() {
        assert_eq!(
            at("1970-01-01T00:00:00Z"),
            Instant {
                seconds: 0,
                nanos: 0
            }
        );
        assert_eq!(at("2026-06-15T08:01:00.000Z").seconds, 1_781_510_460);
        assert_eq!(at("2000-02-29T12:00:00Z").seconds, 951_825_600);
        assert_eq!(at("1969-12-31T23:59:59Z").seconds, -1);
    }

    #[test]
    fn fraction_digits_and_offsets_compare_as_time() {
        // As strings these sort the other way round.
        assert!(at("2026-06-15T08:01:00Z") < at("2026-06-15T08:01:00.5Z"));
        assert!(
            at("2026-06-15T08:01:00.5Z")
                < at("2026-06-15T08:01:00.123456789+00:00").max(at("2026-06-15T08:01:00.6Z"))
        );
        assert_eq!(
            at("2026-06-15T08:01:00.5Z"),
            at("2026-06-15T08:01:00.500000000Z")
        );
        assert_eq!(at("2026-06-15T17:01:00+09:00"), at("2026-06-15T08:01:00Z"));
        assert_eq!(at("2026-06-15t03:01:00-05:00"), at("2026-06-15T08:01:00z"));
        assert!(at("2026-06-15T09:00:00+09:00") < at("2026-06-15T01:00:00Z"));
        assert_eq!(at("2026-06-15T08:01:00.1234567891Z").nanos, 123_456_789);
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            Instant::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(at("1994-11-06T08:49:37Z"))
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(Instant::parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "2026-06-15",
            "2026-06-15T08:01:00",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-06-15T24:00:00Z",
            "2026-06-15T08:01:00.Z",
            "2026-06-15T08:01:00+0900",
            "2026-06-15T08:01:00Zjunk",
            "２０２６-06-15T08:01:00Z",
        ] {
            assert_eq!(Instant::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn creation_order_is_by_instant_then_listing_order() {
        let t = |text: &str| Some(at(text));
        let times = [
            t("2026-06-15T08:01:00.5Z"),
            None,
            t("1969-12-31T23:59:59Z"),
            t("2026-06-15T17:01:00+09:00"),
            t("2026-06-15T08:01:00Z"),
            None,
            t("2026-06-15T08:01:00.5Z"),
        ];
        assert_eq!(creation_order(&times), vec![2, 3, 4, 0, 6, 1, 5]);
        assert_eq!(creation_order(&[]), Vec::<usize>::new());
    }

    #[test]
    fn creation_order_matches_a_stable_sort() {
        // A deterministic spread of times, many ties, some missing.
        let mut seed = 7u64;
        let times: Vec<Option<Instant>> = (0..2000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = seed >> 33;
                (r % 11 != 0).then(|| Instant {
                    seconds: (r % 7) as i64 - 3,
                    nanos: (r % 5) as u32 * 100,
                })
            })
            .collect();
        let mut expected: Vec<usize> = (0..times.len()).collect();
        expected.sort_by_key(|&i| (times[i].is_none(), times[i]));
        assert_eq!(creation_order(&times), expected);
    }
}
