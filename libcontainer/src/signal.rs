//! Signal names as `kill` takes them: `TERM`, `SIGTERM`, `sigterm`, `15`,
//! and the real-time `RTMIN+N` / `RTMAX-N` forms.

use crate::error::{Error, Result};

/// Parses a signal as runc's `kill` does; returns its number.
pub fn parse_signal(s: &str) -> Result<i32> {
    let bad = || Error::Unsupported { what: format!("signal {s:?}").into(), reason: "unknown signal".into() };
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=libc::SIGRTMAX()).contains(&n) { Ok(n) } else { Err(bad()) };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(n) = rt_signal(name) {
        return n.ok_or_else(bad);
    }
    let full = format!("SIG{name}");
    full.parse::<nix::sys::signal::Signal>().map(|s| s as i32).map_err(|_| bad())
}

fn rt_signal(name: &str) -> Option<Option<i32>> {
    let (base, rest) = if let Some(r) = name.strip_prefix("RTMIN") {
        (libc::SIGRTMIN(), r)
    } else if let Some(r) = name.strip_prefix("RTMAX") {
        (libc::SIGRTMAX(), r)
    } else {
        return None;
    };
    let n = match rest {
        "" => Some(base),
        r if r.starts_with('+') => r[1..].parse::<i32>().ok().map(|k| base + k),
        r if r.starts_with('-') => r[1..].parse::<i32>().ok().map(|k| base - k),
        _ => None,
    };
    Some(n.filter(|n| (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_signal("TERM").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("SIGKILL").unwrap(), libc::SIGKILL);
        assert_eq!(parse_signal("hup").unwrap(), libc::SIGHUP);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("RTMIN+1").unwrap(), libc::SIGRTMIN() + 1);
    }

    #[test]
    fn refusals() {
        for s in ["", "0", "65", "-1", "FOO", "SIG", "RTMIN+99", "RTMAX-x"] {
            assert!(parse_signal(s).is_err(), "{s}");
        }
    }
}
