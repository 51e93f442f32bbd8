//! `brig ps`: runc's table (the host's `ps` output filtered to the
//! container's pids) or `--format json` (the pids).

use std::process::Command;

use clap::Args;
use libcontainer::{Container, Error};

use super::Result;
use crate::cli::Global;

// `brig ps` flags (a plain comment: see `cli::Command`).
#[derive(Debug, Args)]
pub struct PsFlags {
    /// Output format: table or json.
    #[arg(short, long, default_value = "table")]
    pub format: String,
    /// The container id.
    pub id: String,
    /// Options passed to ps(1) (default: -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

/// Lists the container's processes.
pub fn run(g: &Global, f: &PsFlags) -> Result<u8> {
    let pids: Vec<i32> = Container::load(&g.root, &f.id)?.processes()?.iter().map(|p| p.as_raw()).collect();
    match f.format.as_str() {
        "json" => {
            let text = serde_json::to_string(&pids).map_err(|e| Error::config("ps", e.to_string()))?;
            println!("{text}");
            return Ok(0);
        }
        "table" => {}
        other => return Err(Error::config("--format", format!("{other:?} is neither table nor json"))),
    }
    let args: Vec<String> = if f.ps_args.is_empty() { vec!["-ef".into()] } else { f.ps_args.clone() };
    let out = Command::new("ps").args(&args).output().map_err(|e| Error::io("exec", "ps", &e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{}", filter_table(&text, &pids)?);
    Ok(0)
}

/// The header and the lines whose PID column is one of `pids`.
fn filter_table(text: &str, pids: &[i32]) -> Result<String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| Error::config("ps", "the ps output has no PID column"))?;
    let mut out = format!("{header}\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let pid = line.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_pid_column() {
        let t = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 init\nroot 42 1 0 10:00 ? 00:00:00 sh\n";
        assert_eq!(filter_table(t, &[42]).unwrap(), "UID PID PPID C STIME TTY TIME CMD\nroot 42 1 0 10:00 ? 00:00:00 sh\n");
        assert!(filter_table("A B\n", &[1]).is_err());
    }
}
