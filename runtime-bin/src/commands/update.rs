//! `brig update`: runc's flags, or `-r FILE|-` with a JSON LinuxResources.
//! Unset flags leave the value unchanged.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use libcontainer::{Container, Error};
use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};

use super::Result;
use crate::cli::Global;
use crate::log::Logger;

// `brig update` flags (runc's names; `--cpu-shares` is an alias of runc's
// `--cpu-share`). A plain comment: see `cli::Command`.
#[derive(Debug, Args, Default)]
pub struct UpdateFlags {
    /// JSON file with the resources to update, or `-` for stdin.
    #[arg(short = 'r', long)]
    pub resources: Option<PathBuf>,
    /// Block IO weight (10-1000).
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// CPU CFS period (µs).
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    /// CPU CFS quota (µs per period); -1 for none.
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU CFS burst (µs).
    #[arg(long = "cpu-burst")]
    pub cpu_burst: Option<u64>,
    /// CPU shares (relative weight).
    #[arg(long = "cpu-share", alias = "cpu-shares")]
    pub cpu_share: Option<u64>,
    /// Realtime period (not on cgroup v2).
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,
    /// Realtime runtime (not on cgroup v2).
    #[arg(long = "cpu-rt-runtime")]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs to run on (cpuset list).
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to allocate on (cpuset list).
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with k/m/g suffix); -1 for none.
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory reservation (soft limit).
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit; -1 for unlimited swap.
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Obsolete (ignored on cgroup v2).
    #[arg(long = "kernel-memory", hide = true)]
    pub kernel_memory: Option<String>,
    /// Obsolete (ignored on cgroup v2).
    #[arg(long = "kernel-memory-tcp", hide = true)]
    pub kernel_memory_tcp: Option<String>,
    /// Maximum number of pids; -1 for none.
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// The container id.
    pub id: String,
}

/// Applies the new resources to the live container and saves them.
pub fn run(g: &Global, f: &UpdateFlags, log: &Logger) -> Result<u8> {
    let r = match &f.resources {
        Some(path) => read_resources(path)?,
        None => from_flags(f)?,
    };
    if f.kernel_memory.is_some() || f.kernel_memory_tcp.is_some() {
        log.warn(&"--kernel-memory and --kernel-memory-tcp are ignored on cgroup v2");
    }
    let mut c = Container::load(&g.root, &f.id)?;
    for w in c.update(&r)? {
        log.warn(&w);
    }
    Ok(0)
}

fn read_resources(path: &PathBuf) -> Result<LinuxResources> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).map_err(|e| Error::io("read", "stdin", &e))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, &e))?;
    }
    serde_json::from_str(&text).map_err(|e| Error::Config {
        file: "--resources".into(),
        field: "(document)".into(),
        reason: e.to_string(),
    })
}

fn from_flags(f: &UpdateFlags) -> Result<LinuxResources> {
    let mut r = LinuxResources::default();
    let mem = |flag: &str, v: &Option<String>| v.as_deref().map(|s| parse_ram(flag, s)).transpose();
    let mut m = LinuxMemory::default();
    m.set_limit(mem("--memory", &f.memory)?);
    m.set_reservation(mem("--memory-reservation", &f.memory_reservation)?);
    m.set_swap(mem("--memory-swap", &f.memory_swap)?);
    if m != LinuxMemory::default() {
        r.set_memory(Some(m));
    }
    let mut c = LinuxCpu::default();
    c.set_shares(f.cpu_share);
    c.set_quota(f.cpu_quota);
    c.set_period(f.cpu_period);
    c.set_burst(f.cpu_burst);
    c.set_realtime_period(f.cpu_rt_period);
    c.set_realtime_runtime(f.cpu_rt_runtime);
    c.set_cpus(f.cpuset_cpus.clone());
    c.set_mems(f.cpuset_mems.clone());
    if c != LinuxCpu::default() {
        r.set_cpu(Some(c));
    }
    if let Some(l) = f.pids_limit {
        let mut p = LinuxPids::default();
        p.set_limit(l);
        r.set_pids(Some(p));
    }
    if let Some(w) = f.blkio_weight {
        let mut b = LinuxBlockIo::default();
        b.set_weight(Some(w));
        r.set_block_io(Some(b));
    }
    Ok(r)
}

/// docker's `units.RAMInBytes`: a number with an optional binary suffix
/// (k, m, g, t, p, optionally followed by b or ib), or -1.
pub fn parse_ram(flag: &str, s: &str) -> Result<i64> {
    if s == "-1" {
        return Ok(-1);
    }
    let bad = || Error::config(flag, format!("{s:?} is not a size (e.g. 512m, 1g, 1048576)"));
    let lower = s.trim().to_ascii_lowercase();
    let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let v: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim_end_matches("ib").trim_end_matches('b');
    let mult: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    let bytes = v * mult;
    if !bytes.is_finite() || bytes < 0.0 || bytes > i64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_sizes() {
        assert_eq!(parse_ram("m", "33554432").unwrap(), 33_554_432);
        assert_eq!(parse_ram("m", "32m").unwrap(), 33_554_432);
        assert_eq!(parse_ram("m", "32MiB").unwrap(), 33_554_432);
        assert_eq!(parse_ram("m", "1g").unwrap(), 1 << 30);
        assert_eq!(parse_ram("m", "1.5k").unwrap(), 1536);
        assert_eq!(parse_ram("m", "-1").unwrap(), -1);
        assert!(parse_ram("m", "lots").is_err());
        assert!(parse_ram("m", "-5").is_err());
    }

    #[test]
    fn flags_build_only_what_is_set() {
        let f = UpdateFlags { pids_limit: Some(20), memory: Some("64m".into()), id: "x".into(), ..Default::default() };
        let r = from_flags(&f).unwrap();
        assert_eq!(r.pids().as_ref().unwrap().limit(), 20);
        assert_eq!(r.memory().as_ref().unwrap().limit(), Some(64 << 20));
        assert!(r.cpu().is_none() && r.block_io().is_none());
    }
}
