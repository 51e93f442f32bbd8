//! Where errors and warnings go: stderr, and the `--log` file in text or
//! JSON form (`{"level":"error","msg":"...","time":"..."}`), which engines
//! read to report a runtime's failure.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use crate::cli::{Global, LogFormat};

/// The logger for one invocation.
pub struct Logger {
    file: Option<PathBuf>,
    format: LogFormat,
    debug: bool,
}

impl Logger {
    /// From the global flags.
    pub fn new(g: &Global) -> Logger {
        Logger { file: g.log.clone(), format: g.log_format, debug: g.debug }
    }

    /// Logs an error: one line on stderr, and one in the log file.
    pub fn error(&self, e: &dyn std::fmt::Display) {
        let msg = e.to_string();
        eprintln!("brig: {msg}");
        self.to_file("error", &msg);
    }

    /// Logs a warning.
    pub fn warn(&self, e: &dyn std::fmt::Display) {
        let msg = e.to_string();
        eprintln!("brig: warning: {msg}");
        self.to_file("warning", &msg);
    }

    /// Logs a debug line, only with `--debug`.
    pub fn debug(&self, msg: &str) {
        if self.debug {
            self.to_file("debug", msg);
        }
    }

    fn to_file(&self, level: &str, msg: &str) {
        let Some(path) = &self.file else { return };
        let time = libcontainer::state::now_rfc3339();
        let line = match self.format {
            LogFormat::Json => serde_json::json!({ "level": level, "msg": msg, "time": time }).to_string(),
            LogFormat::Text => format!("time=\"{time}\" level={level} msg={msg:?}"),
        };
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{line}");
        }
    }
}
