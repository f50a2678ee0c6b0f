//! Time as the CLI shows and reads it: RFC 3339 timestamps, kubectl's compact
//! `AGE` (`5s`, `3m2s`, `2d`), and relative durations (`10m`, `1h30m`, `2d`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_api::time::Timestamp;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Parses an RFC 3339 timestamp (`2025-01-31T12:00:00Z`, `2025-01-31T13:00:00.5+01:00`)
/// into whole seconds since the Unix epoch (fractions are dropped). `None` when the
/// text is not such a timestamp.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(text)
        .ok()
        .map(|t| t.as_micros().div_euclid(MICROS_PER_SECOND))
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(unix: i64) -> String {
    Timestamp::from_micros(unix.saturating_mul(MICROS_PER_SECOND)).to_rfc3339()
}

/// kubectl's compact age of something `seconds` old: exact seconds under two
/// minutes, then minutes (with seconds under ten minutes), hours (with minutes
/// under eight hours), days (with hours under eight days), years (with days under
/// eight years). `<invalid>` for times more than a second in the future.
pub fn human_age(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const YEAR: i64 = 365 * DAY;
    let two_parts = |big: i64, big_unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small}{small_unit}")
        }
    };
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    if s < 2 * MINUTE {
        return format!("{s}s");
    }
    let minutes = s / MINUTE;
    if minutes < 10 {
        return two_parts(minutes, "m", s % MINUTE, "s");
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }
    let hours = s / HOUR;
    if hours < 8 {
        return two_parts(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = s / DAY;
    if hours < 8 * 24 {
        return two_parts(days, "d", hours % 24, "h");
    }
    if s < 2 * YEAR {
        return format!("{days}d");
    }
    let years = s / YEAR;
    if s < 8 * YEAR {
        return two_parts(years, "y", days % 365, "d");
    }
    format!("{years}y")
}

/// The `AGE` of an object created at `created` (RFC 3339), seen at `now`;
/// `<unknown>` when there is no valid timestamp.
pub fn age_of(created: Option<&str>, now: i64) -> String {
    match created.and_then(parse_rfc3339) {
        Some(t) => human_age(now - t),
        None => "<unknown>".into(),
    }
}

/// Parses a relative duration: one or more `<number><unit>` groups with units `d`,
/// `h`, `m`, `s`, `ms` (`10m`, `1h30m`, `2d`, `90s`). `None` when malformed.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (days, rest) = match text.find('d') {
        Some(i) => {
            let n: u64 = text[..i].parse().ok()?;
            (n, &text[i + 1..])
        }
        None => (0, text),
    };
    let rest_duration = if rest.is_empty() {
        if days == 0 && text.is_empty() {
            return None;
        }
        Duration::ZERO
    } else {
        palisade_api::duration::parse(rest)?
    };
    Duration::from_secs(days.checked_mul(86_400)?).checked_add(rest_duration)
}

/// A time given as RFC 3339 or as a duration before `now` (`1h` = an hour ago),
/// normalized to RFC 3339 for the server.
pub fn parse_time_or_ago(text: &str, now: i64) -> Option<String> {
    if parse_rfc3339(text).is_some() {
        return Some(text.to_string());
    }
    let ago = parse_duration(text)?;
    let ago = i64::try_from(ago.as_secs()).ok()?;
    Some(format_rfc3339(now.checked_sub(ago)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (182, "3m2s"),
            (599, "9m59s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 61, "3h1m"),
            (8 * 3600, "8h"),
            (47 * 3600 + 3599, "47h"),
            (48 * 3600, "2d"),
            (2 * 86_400 + 5 * 3600, "2d5h"),
            (8 * 86_400, "8d"),
            (400 * 86_400, "400d"),
            (2 * 365 * 86_400, "2y"),
            (3 * 365 * 86_400 + 10 * 86_400, "3y10d"),
            (9 * 365 * 86_400 + 10 * 86_400, "9y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_age(secs), want, "{secs}s");
        }
    }

    #[test]
    fn timestamps_round_trip() {
        for (text, unix) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T12:34:56Z", 951_827_696),
            ("2025-01-31T12:00:00Z", 1_738_324_800),
            ("1969-12-31T23:59:59Z", -1),
        ] {
            assert_eq!(parse_rfc3339(text), Some(unix), "{text}");
            assert_eq!(format_rfc3339(unix), text);
        }
        assert_eq!(
            parse_rfc3339("2025-01-31T13:00:00.123456+01:00"),
            Some(1_738_324_800)
        );
        assert_eq!(
            parse_rfc3339("2025-01-31T07:00:00-05:00"),
            Some(1_738_324_800)
        );
        for bad in [
            "",
            "2025-01-31",
            "2025-13-01T00:00:00Z",
            "2025-02-30T00:00:00Z",
            "2025-01-31T12:00:00",
            "2025-01-31T12:00:00+0100",
            "2025-01-31T12:00:00.Z",
            "yesterday at noon...",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages_of_objects() {
        let now = parse_rfc3339("2025-01-31T12:03:02Z").unwrap();
        assert_eq!(age_of(Some("2025-01-31T12:00:00Z"), now), "3m2s");
        assert_eq!(age_of(None, now), "<unknown>");
        assert_eq!(age_of(Some("soon"), now), "<unknown>");
    }

    #[test]
    fn durations_and_relative_times() {
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1d12h"), Some(Duration::from_secs(129_600)));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("ten minutes"), None);
        let now = parse_rfc3339("2025-01-31T12:00:00Z").unwrap();
        assert_eq!(
            parse_time_or_ago("1h", now).as_deref(),
            Some("2025-01-31T11:00:00Z")
        );
        assert_eq!(
            parse_time_or_ago("2025-01-01T00:00:00Z", now).as_deref(),
            Some("2025-01-01T00:00:00Z")
        );
        assert_eq!(parse_time_or_ago("last week", now), None);
    }
}
