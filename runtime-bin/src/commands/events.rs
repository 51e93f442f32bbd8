//! `brig events`: `--stats` prints one runc-format stats event; otherwise
//! events stream (stats every `--interval`, and oom kills) until the
//! container stops.

use std::time::Duration;

use clap::Args;
use libcontainer::cgroups::stats::Event;
use libcontainer::{Container, Error};

use super::Result;
use crate::cli::Global;

// `brig events` flags (a plain comment: see `cli::Command`).
#[derive(Debug, Args)]
pub struct EventsFlags {
    /// Interval between stats events (Go duration: 5s, 500ms, 1m).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Print the container's stats once and exit.
    #[arg(long)]
    pub stats: bool,
    /// The container id.
    pub id: String,
}

/// Prints events as JSON lines.
pub fn run(g: &Global, f: &EventsFlags) -> Result<u8> {
    let c = Container::load(&g.root, &f.id)?;
    if f.stats {
        let ev = Event { kind: "stats", id: f.id.clone(), data: Some(c.stats()?) };
        print_event(&ev)?;
        return Ok(0);
    }
    c.watch_events(f.interval, &mut |ev| print_event(ev))?;
    Ok(0)
}

fn print_event(ev: &Event) -> Result<()> {
    use std::io::Write;
    let text = serde_json::to_string(ev).map_err(|e| Error::config("events", e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush()).map_err(|e| Error::io("write", "stdout", &e))
}

/// A Go-style duration: a number with unit ns, us, ms, s, m or h.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    let secs = match unit {
        "ns" => v / 1e9,
        "us" | "µs" => v / 1e6,
        "ms" => v / 1e3,
        "s" | "" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("invalid duration unit in {s:?}")),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("duration {s:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5x").is_err());
    }
}
