//! Time as the CLI shows and reads it: RFC 3339 timestamps, kubectl's compact
//! `AGE` (`5s`, `3m2s`, `2d`), and relative durations (`10m`, `1h30m`, `2d`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;

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
    let b = text.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let tz = &rest[1..];
            if tz.len() != 5 || tz.as_bytes()[2] != b':' {
                return None;
            }
            let h: i64 = tz[..2].parse().ok()?;
            let m: i64 = tz[3..].parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second.min(59) - offset)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(SECONDS_PER_DAY);
    let secs = unix.rem_euclid(SECONDS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Count from 0000-03-01 so that the leap day ends each 4-year cycle.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12; // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
