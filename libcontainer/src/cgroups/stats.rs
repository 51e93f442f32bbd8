//! Container statistics from cgroup v2 files, in the JSON shape of runc's
//! `events --stats` (`types.Stats`), converted as runc's fs2 driver does:
//! microseconds become nanoseconds, `max` becomes u64::MAX, swap is reported
//! as memory+swap for v1 compatibility.
//!
//! Parsing is pure (text in, numbers out); [`read`] only gathers the files.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// runc's `types.Stats`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    /// CPU usage and throttling.
    pub cpu: Cpu,
    /// Effective cpuset.
    pub cpuset: CpuSet,
    /// Memory and swap.
    pub memory: Memory,
    /// Task counts.
    pub pids: Pids,
    /// Block I/O.
    pub blkio: Blkio,
    /// Hugetlb usage per page size.
    pub hugetlb: BTreeMap<String, Hugetlb>,
    /// Always empty (brig has no Intel RDT support).
    pub intel_rdt: BTreeMap<String, u64>,
    /// Always null, as runc on cgroup v2 without a network hook.
    pub network_interfaces: Option<Vec<()>>,
}

/// CPU usage (nanoseconds).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CpuUsage {
    /// Total time.
    #[serde(skip_serializing_if = "is_zero")]
    pub total: u64,
    /// Time in the kernel.
    pub kernel: u64,
    /// Time in user space.
    pub user: u64,
}

/// CFS bandwidth throttling.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Throttling {
    /// Periods elapsed.
    #[serde(skip_serializing_if = "is_zero")]
    pub periods: u64,
    /// Periods in which the group was throttled.
    #[serde(rename = "throttledPeriods", skip_serializing_if = "is_zero")]
    pub throttled_periods: u64,
    /// Time throttled (nanoseconds).
    #[serde(rename = "throttledTime", skip_serializing_if = "is_zero")]
    pub throttled_time: u64,
}

/// CPU statistics.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Cpu {
    /// Usage.
    pub usage: CpuUsage,
    /// Throttling.
    pub throttling: Throttling,
}

/// The effective cpuset.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CpuSet {
    /// CPUs the container may run on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u16>,
    /// Memory nodes it may allocate on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mems: Vec<u16>,
}

/// One memory counter (runc's `MemoryEntry`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MemoryEntry {
    /// The limit (u64::MAX for none).
    pub limit: u64,
    /// Current usage.
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    /// Peak usage.
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    /// Times the limit was hit (0 on v2, as runc).
    pub failcnt: u64,
}

/// Memory statistics.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Memory {
    /// Page cache (`file` in memory.stat).
    #[serde(skip_serializing_if = "is_zero")]
    pub cache: u64,
    /// Memory.
    pub usage: MemoryEntry,
    /// Memory plus swap, as v1 reported it.
    pub swap: MemoryEntry,
    /// Kernel memory (not separately limited on v2).
    pub kernel: MemoryEntry,
    /// Kernel TCP memory (not separately limited on v2).
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    /// Every memory.stat counter.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

/// Task counts.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Pids {
    /// Tasks now.
    #[serde(skip_serializing_if = "is_zero")]
    pub current: u64,
    /// The limit, 0 for none.
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// One block I/O counter.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BlkioEntry {
    /// Device major.
    #[serde(skip_serializing_if = "is_zero")]
    pub major: u64,
    /// Device minor.
    #[serde(skip_serializing_if = "is_zero")]
    pub minor: u64,
    /// `Read`, `Write` or `Discard`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub op: String,
    /// The count.
    #[serde(skip_serializing_if = "is_zero")]
    pub value: u64,
}

/// Block I/O statistics from io.stat.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Blkio {
    /// Bytes per device and direction.
    #[serde(rename = "ioServiceBytesRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    /// Operations per device and direction.
    #[serde(rename = "ioServicedRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

/// Hugetlb usage of one page size.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Hugetlb {
    /// Bytes in use.
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    /// Peak (not kept by v2).
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    /// Allocations refused by the limit (`max` in `hugetlb.<size>.events`).
    pub failcnt: u64,
}

/// One line of `events` output, as runc prints it: `stats` with data, or
/// `oom` without.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    /// `stats` or `oom`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The container id.
    pub id: String,
    /// The statistics of a `stats` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Stats>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A cgroup number: `max` is u64::MAX, as runc's GetCgroupParamUint.
pub fn parse_value(s: &str) -> u64 {
    let s = s.trim();
    if s == "max" {
        return u64::MAX;
    }
    s.parse().unwrap_or(0)
}

/// `key value` lines (cpu.stat, memory.stat, memory.events) as a map.
pub fn parse_flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines().filter_map(|l| l.split_once(' ')).map(|(k, v)| (k.to_string(), parse_value(v))).collect()
}

/// A cpuset list like `0-3,5` as its members.
pub fn parse_cpu_list(text: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
            // bounded: at most 65536 entries
            out.extend(a..=b);
        }
    }
    out
}

/// io.stat lines (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0`).
pub fn parse_io_stat(text: &str) -> Blkio {
    let mut b = Blkio::default();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        let (major, minor) = (major.parse().unwrap_or(0), minor.parse().unwrap_or(0));
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let (table, op) = match k {
                "rbytes" => (&mut b.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut b.io_service_bytes_recursive, "Write"),
                "dbytes" => (&mut b.io_service_bytes_recursive, "Discard"),
                "rios" => (&mut b.io_serviced_recursive, "Read"),
                "wios" => (&mut b.io_serviced_recursive, "Write"),
                "dios" => (&mut b.io_serviced_recursive, "Discard"),
                _ => continue,
            };
            table.push(BlkioEntry { major, minor, op: op.into(), value: parse_value(v) });
        }
    }
    b
}

/// CPU stats from cpu.stat text (microseconds → nanoseconds).
pub fn cpu_from(stat: &BTreeMap<String, u64>) -> Cpu {
    let g = |k: &str| stat.get(k).copied().unwrap_or(0);
    Cpu {
        usage: CpuUsage {
            total: g("usage_usec").saturating_mul(1000),
            kernel: g("system_usec").saturating_mul(1000),
            user: g("user_usec").saturating_mul(1000),
        },
        throttling: Throttling {
            periods: g("nr_periods"),
            throttled_periods: g("nr_throttled"),
            throttled_time: g("throttled_usec").saturating_mul(1000),
        },
    }
}

/// Reads a cgroup file, None if it does not exist (controller not enabled).
fn read_opt(dir: &Path, name: &str) -> Result<Option<String>> {
    let path = dir.join(name);
    match fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", &path, &e)),
    }
}

fn num(dir: &Path, name: &str) -> Result<u64> {
    Ok(read_opt(dir, name)?.map_or(0, |t| parse_value(&t)))
}

fn memory_from(dir: &Path) -> Result<Memory> {
    let raw = parse_flat_keyed(&read_opt(dir, "memory.stat")?.unwrap_or_default());
    let usage = MemoryEntry {
        usage: num(dir, "memory.current")?,
        limit: num(dir, "memory.max")?,
        max: num(dir, "memory.peak")?,
        failcnt: 0,
    };
    let swap_only = MemoryEntry {
        usage: num(dir, "memory.swap.current")?,
        limit: num(dir, "memory.swap.max")?,
        max: 0,
        failcnt: 0,
    };
    // v1 reported memory+swap; runc sums them for compatibility.
    let swap = MemoryEntry {
        usage: swap_only.usage.saturating_add(usage.usage),
        limit: if swap_only.limit == u64::MAX { u64::MAX } else { swap_only.limit.saturating_add(usage.limit) },
        max: 0,
        failcnt: 0,
    };
    Ok(Memory { cache: raw.get("file").copied().unwrap_or(0), usage, swap, raw, ..Memory::default() })
}

fn hugetlb_from(dir: &Path) -> Result<BTreeMap<String, Hugetlb>> {
    let mut out = BTreeMap::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return Err(Error::io("readdir", dir, &e)),
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(size) = name.strip_prefix("hugetlb.").and_then(|s| s.strip_suffix(".current")) else { continue };
        if size.ends_with(".rsvd") {
            continue;
        }
        // runc prefers the reservation counter where the kernel has one.
        let usage = match read_opt(dir, &format!("hugetlb.{size}.rsvd.current"))? {
            Some(t) => parse_value(&t),
            None => num(dir, &name)?,
        };
        let events = parse_flat_keyed(&read_opt(dir, &format!("hugetlb.{size}.events"))?.unwrap_or_default());
        out.insert(size.to_string(), Hugetlb { usage, max: 0, failcnt: events.get("max").copied().unwrap_or(0) });
    }
    Ok(out)
}

/// Reads every statistic of the cgroup at `dir`; missing controllers give
/// zeros, as in runc.
pub fn read(dir: &Path) -> Result<Stats> {
    let cpu = cpu_from(&parse_flat_keyed(&read_opt(dir, "cpu.stat")?.unwrap_or_default()));
    let pids_limit = num(dir, "pids.max")?;
    Ok(Stats {
        cpu,
        cpuset: CpuSet {
            cpus: parse_cpu_list(&read_opt(dir, "cpuset.cpus.effective")?.unwrap_or_default()),
            mems: parse_cpu_list(&read_opt(dir, "cpuset.mems.effective")?.unwrap_or_default()),
        },
        memory: memory_from(dir)?,
        pids: Pids { current: num(dir, "pids.current")?, limit: if pids_limit == u64::MAX { 0 } else { pids_limit } },
        blkio: parse_io_stat(&read_opt(dir, "io.stat")?.unwrap_or_default()),
        hugetlb: hugetlb_from(dir)?,
        intel_rdt: BTreeMap::new(),
        network_interfaces: None,
    })
}

/// The `oom_kill` counter of memory.events (0 without the memory controller).
pub fn oom_kills(dir: &Path) -> Result<u64> {
    let text = read_opt(dir, "memory.events")?.unwrap_or_default();
    Ok(parse_flat_keyed(&text).get("oom_kill").copied().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_lists() {
        assert_eq!(parse_value("max\n"), u64::MAX);
        assert_eq!(parse_value("123\n"), 123);
        assert_eq!(parse_cpu_list("0-2,5\n"), vec![0, 1, 2, 5]);
        assert_eq!(parse_cpu_list(""), Vec::<u16>::new());
    }

    #[test]
    fn cpu_stat_to_nanoseconds() {
        let s = parse_flat_keyed("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 20\nnr_throttled 7\nthrottled_usec 30\n");
        let c = cpu_from(&s);
        assert_eq!((c.usage.total, c.usage.user, c.usage.kernel), (1_500_000, 1_000_000, 500_000));
        assert_eq!((c.throttling.periods, c.throttling.throttled_periods, c.throttling.throttled_time), (20, 7, 30_000));
    }

    #[test]
    fn io_stat() {
        let b = parse_io_stat("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
        assert_eq!(b.io_service_bytes_recursive.len(), 3);
        assert_eq!(b.io_service_bytes_recursive[1].op, "Write");
        assert_eq!(b.io_service_bytes_recursive[1].value, 8192);
        assert_eq!(b.io_serviced_recursive[0].value, 1);
    }

    #[test]
    fn reads_a_fake_cgroup() {
        let dir = std::env::temp_dir().join(format!("brig-stats-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for (f, v) in [
            ("memory.current", "1000\n"),
            ("memory.max", "4000\n"),
            ("memory.swap.current", "10\n"),
            ("memory.swap.max", "max\n"),
            ("memory.stat", "anon 5\nfile 7\n"),
            ("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"),
            ("pids.current", "3\n"),
            ("pids.max", "max\n"),
            ("hugetlb.2MB.current", "0\n"),
            ("hugetlb.2MB.events", "max 2\n"),
        ] {
            fs::write(dir.join(f), v).unwrap();
        }
        let s = read(&dir).unwrap();
        assert_eq!((s.memory.usage.usage, s.memory.usage.limit, s.memory.cache), (1000, 4000, 7));
        assert_eq!((s.memory.swap.usage, s.memory.swap.limit), (1010, u64::MAX));
        assert_eq!((s.pids.current, s.pids.limit), (3, 0));
        assert_eq!(s.hugetlb["2MB"].failcnt, 2);
        assert_eq!(oom_kills(&dir).unwrap(), 1);
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["memory"]["raw"]["anon"], 5);
        assert_eq!(j["pids"]["current"], 3);
        assert!(j["network_interfaces"].is_null());
        fs::remove_dir_all(&dir).unwrap();
    }
}
