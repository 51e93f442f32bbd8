//! `brig list`: runc's table, `--format json`, or `-q`.

use std::fmt::Write as _;

use libcontainer::{Container, Error};

use super::Result;
use crate::cli::Global;

/// Lists the containers under the root, sorted by id.
pub fn run(g: &Global, format: &str, quiet: bool) -> Result<u8> {
    let mut ids: Vec<String> = match std::fs::read_dir(&g.root) {
        Ok(rd) => rd.flatten().filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("readdir", &g.root, &e)),
    };
    ids.sort();
    ids.retain(|id| !id.starts_with('.'));
    let containers: Vec<Container> = ids.iter().filter_map(|id| Container::load(&g.root, id).ok()).collect();
    if quiet {
        for c in &containers {
            println!("{}", c.state().id);
        }
        return Ok(0);
    }
    match format {
        "json" => {
            let reports: Vec<_> = containers
                .iter()
                .map(|c| {
                    let mut r = c.state().report(c.status());
                    // runc's list names the owner; its state leaves it empty.
                    if r.owner.is_empty() {
                        r.owner = "root";
                    }
                    r
                })
                .collect();
            let text = serde_json::to_string(&reports).map_err(|e| Error::config("list", e.to_string()))?;
            println!("{text}");
        }
        "table" => print!("{}", table(&containers)),
        other => {
            return Err(Error::Unsupported { what: format!("--format {other}").into(), reason: "use table or json".into() })
        }
    }
    Ok(0)
}

/// runc's tabwriter layout: columns padded to the widest cell plus 3.
fn table(cs: &[Container]) -> String {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from).to_vec()];
    for c in cs {
        let s = c.state();
        let status = c.status();
        let pid = if status == libcontainer::Status::Stopped { 0 } else { s.pid };
        rows.push(vec![
            s.id.clone(),
            pid.to_string(),
            status.to_string(),
            s.bundle.display().to_string(),
            s.created.clone(),
            if s.owner.is_empty() { "root".into() } else { s.owner.clone() },
        ]);
    }
    let widths: Vec<usize> = (0..6).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        for (i, cell) in r.iter().enumerate() {
            if i == 5 {
                let _ = writeln!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell:<w$}", w = widths[i] + 3);
            }
        }
    }
    out
}
