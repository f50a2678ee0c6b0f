//! Timestamps: microseconds since the Unix epoch, written as RFC 3339 in UTC.
//!
//! Only what Palisade needs — formatting and parsing RFC 3339 and taking the
//! current time — so no date library is pulled in. The calendar conversion uses the
//! proleptic Gregorian calendar through days counted from 1970-01-01.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// A point in time with microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

impl Timestamp {
    /// The current time (the Unix epoch if the clock is before it).
    pub fn now() -> Timestamp {
        Timestamp::from(SystemTime::now())
    }

    /// A timestamp from microseconds since the Unix epoch.
    pub fn from_micros(micros: i64) -> Timestamp {
        Timestamp { micros }
    }

    /// Microseconds since the Unix epoch.
    pub fn as_micros(self) -> i64 {
        self.micros
    }

    /// This time plus `duration` (saturating).
    pub fn plus(self, duration: Duration) -> Timestamp {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp::from_micros(self.micros.saturating_add(micros))
    }

    /// This time minus `duration` (saturating).
    pub fn minus(self, duration: Duration) -> Timestamp {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp::from_micros(self.micros.saturating_sub(micros))
    }

    /// RFC 3339 in UTC with whole seconds, as Kubernetes writes
    /// `creationTimestamp`: `2025-01-31T12:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        let (date, secs_of_day) = self.split();
        format!("{date}T{}Z", clock(secs_of_day))
    }

    /// RFC 3339 in UTC with microseconds: `2025-01-31T12:00:00.123456Z`. Fixed
    /// width, so these strings sort in time order.
    pub fn to_rfc3339_micros(self) -> String {
        let (date, secs_of_day) = self.split();
        let frac = self.micros.rem_euclid(MICROS_PER_SECOND);
        format!("{date}T{}.{frac:06}Z", clock(secs_of_day))
    }

    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. Digits past
    /// microseconds are dropped.
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, String> {
        parse(text).ok_or_else(|| {
            format!(
                "{text:?} is not an RFC 3339 timestamp; expected e.g. 2025-01-31T12:00:00Z or \
                 2025-01-31T13:00:00.5+01:00"
            )
        })
    }

    fn split(self) -> (String, i64) {
        let seconds = self.micros.div_euclid(MICROS_PER_SECOND);
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        (
            format!("{year:04}-{month:02}-{day:02}"),
            seconds.rem_euclid(SECONDS_PER_DAY),
        )
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Timestamp {
        match time.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp::from_micros(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
            Err(e) => {
                Timestamp::from_micros(-i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX))
            }
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_micros())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339_micros())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

fn clock(secs_of_day: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    )
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31).
///
/// Works in 400-year eras (146 097 days each) of years starting on March 1st, so
/// the leap day is the last day of a year.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month 1-12, day 1-31) → days since 1970-01-01; the inverse of
/// [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn parse(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    let mut micros = 0;
    if sep(at, b".") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return None;
        }
        let frac = &text[start..at.min(start + 6)];
        micros = frac.parse::<i64>().ok()? * 10_i64.pow(6 - frac.len() as u32);
    }
    let offset_seconds = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() && sep(at + 3, b":") => {
            let (h, m) = (digits(at + 1, 2)?, digits(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let offset = h * 3600 + m * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second
            - offset_seconds;
    Some(Timestamp::from_micros(seconds * MICROS_PER_SECOND + micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(
            Timestamp::from_micros(0).to_rfc3339(),
            "1970-01-01T00:00:00Z"
        );
        // 2000-02-29T12:34:56.789Z, a leap day in a century leap year.
        let t = Timestamp::from_micros(951_827_696_789_000);
        assert_eq!(t.to_rfc3339(), "2000-02-29T12:34:56Z");
        assert_eq!(t.to_rfc3339_micros(), "2000-02-29T12:34:56.789000Z");
        assert_eq!(
            Timestamp::from_micros(-1).to_rfc3339_micros(),
            "1969-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn parse_round_trips_and_offsets() {
        for micros in [
            0,
            951_827_696_789_000,
            1_735_689_600_000_001,
            -86_400_000_000,
        ] {
            let t = Timestamp::from_micros(micros);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339_micros()), Ok(t));
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2000-02-29T13:34:56.789+01:00"),
            Ok(Timestamp::from_micros(951_827_696_789_000))
        );
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01T00:00:00.1234567Z"),
            Ok(Timestamp::from_micros(123_456))
        );
        for bad in [
            "",
            "2001-02-29T00:00:00Z",
            "2000-01-01",
            "2000-01-01T00:00:00",
            "2000-01-01T00:00:00+1",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_day_round_trips() {
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
