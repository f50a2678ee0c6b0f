//! Kubernetes/Gateway API style durations: one to four `<number><unit>` groups with units
//! `h`, `m`, `s`, `ms` (`5m`, `1h30m`, `500ms`). Go-style fractional seconds (`1.5s`) are
//! accepted too, as agentgateway does.

use std::time::Duration;

/// Parses a duration; `None` when the text is not a valid duration.
pub fn parse(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut groups = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        rest = &rest[len..];
        total += Duration::try_from_secs_f64(number * unit).ok()?;
        groups += 1;
        if groups > 4 {
            return None;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_durations() {
        assert_eq!(parse("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "5", "m", "5x", "1h1h1h1h1h", "-5s", "5 m"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
