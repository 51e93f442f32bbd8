//! `linux.resources` → cgroup v2 file writes, as a pure plan.
//!
//! The conversions follow runc's `fs2` driver (and its `specconv`), so that a
//! config means the same under brig as under runc:
//! - memory: `limit` → `memory.max`, `reservation` → `memory.low`, `swap`
//!   (v1's memory+swap total) → `memory.swap.max` = swap − limit; `-1` = `max`;
//! - cpu: `shares` → `cpu.weight` = 1 + ((shares − 2) × 9999) / 262142,
//!   `quota`/`period` → `cpu.max`, `burst` → `cpu.max.burst`, `idle` →
//!   `cpu.idle`, `cpus`/`mems` → `cpuset.cpus`/`cpuset.mems`;
//! - pids: `limit` → `pids.max`;
//! - blockIO: `weight` → `io.bfq.weight` (or `io.weight` converted), device
//!   weights, throttles → `io.max`;
//! - hugepageLimits → `hugetlb.<size>.max` and `.rsvd.max`; rdma → `rdma.max`;
//! - unified: raw writes, last, so they win.
//!
//! Zero or absent values mean "unchanged" (Docker sends zeros on update).
//! Nothing here touches the filesystem; the `apply` module carries it out.

use std::collections::BTreeSet;

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use crate::error::{Error, Result};

/// What to do with a planned write when its file does not exist, or when the
/// kernel refuses it for an ordering reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteKind {
    /// The file must exist and the write must succeed.
    Required,
    /// A missing file (ENOENT) is ignored: the kernel lacks the feature and
    /// runc ignores it too (e.g. `memory.swap.max` without swap accounting).
    Optional,
    /// If the file is missing, write `value` to `file` instead.
    Fallback {
        /// The alternative file.
        file: String,
        /// The value for it.
        value: String,
    },
    /// If the kernel answers EINVAL, retry once after the next write (the
    /// burst must not exceed the quota that the next write raises).
    RetryAfterNext,
}

/// One write of `value` to the cgroup file `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The file name inside the container's cgroup directory.
    pub file: String,
    /// The value written.
    pub value: String,
    /// How missing files and ordering failures are handled.
    pub kind: WriteKind,
}

impl Write {
    fn req(file: impl Into<String>, value: impl Into<String>) -> Write {
        Write { file: file.into(), value: value.into(), kind: WriteKind::Required }
    }

    fn opt(file: impl Into<String>, value: impl Into<String>) -> Write {
        Write { file: file.into(), value: value.into(), kind: WriteKind::Optional }
    }

    /// The controller owning the file (`memory` for `memory.max`), or None
    /// for the core `cgroup.*` files, which need no controller.
    pub fn controller(&self) -> Option<&str> {
        controller_of(&self.file)
    }
}

/// The cgroup v2 writes for a set of resources, in the order runc makes
/// them, plus what the caller should warn about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The writes, in order.
    pub writes: Vec<Write>,
    /// Settings accepted but without effect on cgroup v2 (runc ignores them).
    pub warnings: Vec<String>,
    /// `memory.checkBeforeUpdate`: refuse a `memory.max` at or below the
    /// current usage (the value is the new limit).
    pub check_memory_usage: Option<i64>,
}

impl Plan {
    /// True if nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Every controller the writes need, sorted.
    pub fn controllers(&self) -> BTreeSet<&str> {
        self.writes.iter().filter_map(|w| w.controller()).collect()
    }
}

/// The controller of a cgroup file name, by its prefix.
pub(crate) fn controller_of(file: &str) -> Option<&str> {
    let (prefix, _) = file.split_once('.')?;
    (prefix != "cgroup").then_some(prefix)
}

/// An invalid resource value, named by its JSON path under `linux.resources`.
fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::Config { file: "linux.resources".into(), field: field.to_string(), reason: reason.into() }
}

/// Plans the cgroup v2 writes for `r`. Never panics, on any input: this is a
/// fuzzing entry point. Device rules are not part of this plan (see
/// [`super::devices`]).
pub fn plan(r: &LinuxResources) -> Result<Plan> {
    let mut p = Plan::default();
    if let Some(n) = r.network() {
        if n.class_id().is_some_and(|c| c != 0) || n.priorities().as_ref().is_some_and(|v| !v.is_empty()) {
            return Err(Error::Unsupported {
                what: "linux.resources.network".into(),
                reason: "net_cls and net_prio (classID, priorities) do not exist in cgroup v2".into(),
            });
        }
    }
    if let Some(pids) = r.pids() {
        match pids.limit() {
            0 => {}
            n if n < 0 => p.writes.push(Write::req("pids.max", "max")),
            n => p.writes.push(Write::req("pids.max", n.to_string())),
        }
    }
    if let Some(m) = r.memory() {
        plan_memory(m, &mut p)?;
    }
    if let Some(io) = r.block_io() {
        plan_io(io, &mut p)?;
    }
    if let Some(cpu) = r.cpu() {
        plan_cpu(cpu, &mut p)?;
    }
    plan_hugetlb(r, &mut p)?;
    plan_rdma(r, &mut p)?;
    plan_unified(r, &mut p)?;
    Ok(p)
}

/// runc's `numToStr`: 0 is unset, -1 is `max`; other negatives are refused
/// here rather than handed to the kernel.
fn num(field: &str, v: i64) -> Result<Option<String>> {
    match v {
        0 => Ok(None),
        -1 => Ok(Some("max".into())),
        v if v < 0 => Err(invalid(field, format!("{v} is neither -1 (unlimited) nor a positive number"))),
        v => Ok(Some(v.to_string())),
    }
}

/// runc's `ConvertMemorySwapToCgroupV2Value`: the v1 memory+swap total
/// becomes the v2 swap-only limit.
pub fn convert_memory_swap(swap: i64, memory: i64) -> Result<i64> {
    if memory == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if memory == 0 || memory == -1 {
        return Err(invalid("memory.swap", "a swap limit needs a memory limit"));
    }
    if memory < 0 {
        return Err(invalid("memory.limit", format!("invalid memory value {memory}")));
    }
    if swap < memory {
        return Err(invalid("memory.swap", "the memory+swap limit must be >= the memory limit"));
    }
    Ok(swap - memory)
}

#[allow(deprecated)] // kernel and kernelTCP: read only to warn about them
fn plan_memory(m: &LinuxMemory, p: &mut Plan) -> Result<()> {
    if m.kernel().is_some_and(|k| k != 0) || m.kernel_tcp().is_some_and(|k| k != 0) {
        p.warnings.push("linux.resources.memory: kernel memory settings are ignored on cgroup v2".into());
    }
    if m.disable_oom_killer() == Some(true) {
        p.warnings.push("linux.resources.memory.disableOOMKiller is ignored on cgroup v2".into());
    }
    if m.swappiness().is_some() {
        p.warnings.push("linux.resources.memory.swappiness is ignored on cgroup v2".into());
    }
    let (limit, swap, low) = (m.limit().unwrap_or(0), m.swap().unwrap_or(0), m.reservation().unwrap_or(0));
    if limit == 0 && swap == 0 && low == 0 {
        return Ok(());
    }
    let swap2 = convert_memory_swap(swap, limit)?;
    let mut swap_str = num("memory.swap", swap2)?;
    if swap_str.is_none() && swap2 == 0 && swap > 0 {
        // memory and memory+swap set to the same value: no swap at all.
        swap_str = Some("0".into());
    }
    if let Some(s) = swap_str {
        // Without swap accounting the file is missing; runc ignores that
        // only for "max" and "0", which ask for nothing a swapless host lacks.
        p.writes.push(if s == "max" || s == "0" { Write::opt("memory.swap.max", s) } else { Write::req("memory.swap.max", s) });
    }
    if let Some(v) = num("memory.limit", limit)? {
        p.writes.push(Write::req("memory.max", v));
    }
    if let Some(v) = num("memory.reservation", low)? {
        p.writes.push(Write::req("memory.low", v));
    }
    if m.check_before_update() == Some(true) && limit > 0 {
        p.check_memory_usage = Some(limit);
    }
    Ok(())
}

/// runc's `ConvertCPUSharesToCgroupV2Value`, with shares first clamped to
/// the range the v1 kernel accepts (2..=262144), so the result is always a
/// valid `cpu.weight` (1..=10000) instead of runc's unsigned wrap-around
/// for shares < 2. Zero means unset.
pub fn convert_cpu_shares(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

/// runc's `ConvertBlkIOToIOWeightValue`: blkio weight 10..=1000 to io.weight
/// 1..=10000. Zero means unset.
pub fn convert_blkio_weight(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + (u64::from(weight.clamp(10, 1000)) - 10) * 9999 / 990
}

fn plan_cpu(c: &LinuxCpu, p: &mut Plan) -> Result<()> {
    if c.realtime_runtime().is_some_and(|v| v != 0) || c.realtime_period().is_some_and(|v| v != 0) {
        return Err(Error::Unsupported {
            what: "linux.resources.cpu.realtimeRuntime/realtimePeriod".into(),
            reason: "cgroup v2 has no realtime (cpu.rt_*) settings".into(),
        });
    }
    let weight = convert_cpu_shares(c.shares().unwrap_or(0));
    if weight != 0 {
        p.writes.push(Write::req("cpu.weight", weight.to_string()));
    }
    if let Some(idle) = c.idle() {
        p.writes.push(Write::req("cpu.idle", idle.to_string()));
    }
    let quota = c.quota().unwrap_or(0);
    let period = c.period().unwrap_or(0);
    let sets_max = quota != 0 || period != 0;
    if let Some(burst) = c.burst() {
        // Written before cpu.max, as runc does; if the kernel refuses it
        // because it exceeds the old quota, retry after the new quota.
        let kind = if sets_max { WriteKind::RetryAfterNext } else { WriteKind::Required };
        p.writes.push(Write { file: "cpu.max.burst".into(), value: burst.to_string(), kind });
    }
    if sets_max {
        let mut v = if quota > 0 { quota.to_string() } else { "max".to_string() };
        if period != 0 {
            v = format!("{v} {period}");
        }
        p.writes.push(Write::req("cpu.max", v));
    }
    for (field, file, val) in [("cpu.cpus", "cpuset.cpus", c.cpus()), ("cpu.mems", "cpuset.mems", c.mems())] {
        if let Some(v) = val.as_deref().filter(|v| !v.is_empty()) {
            p.writes.push(Write::req(file, one_line(field, v)?));
        }
    }
    Ok(())
}

/// A value that must fit on one line of a cgroup file.
fn one_line(field: &str, v: &str) -> Result<String> {
    if v.contains(['\n', '\0']) {
        return Err(invalid(field, format!("{v:?} must be a single line")));
    }
    Ok(v.to_string())
}

fn dev_num(field: &str, major: i64, minor: i64) -> Result<String> {
    if !(0..=i64::from(u32::MAX)).contains(&major) || !(0..=i64::from(u32::MAX)).contains(&minor) {
        return Err(invalid(field, format!("device {major}:{minor} is out of range")));
    }
    Ok(format!("{major}:{minor}"))
}

fn plan_io(io: &LinuxBlockIo, p: &mut Plan) -> Result<()> {
    if let Some(w) = io.weight().filter(|&w| w != 0) {
        if !(10..=1000).contains(&w) {
            return Err(invalid("blockIO.weight", format!("{w} is outside 10-1000")));
        }
        let kind = WriteKind::Fallback { file: "io.weight".into(), value: convert_blkio_weight(w).to_string() };
        p.writes.push(Write { file: "io.bfq.weight".into(), value: w.to_string(), kind });
    }
    if io.leaf_weight().is_some_and(|w| w != 0) {
        p.warnings.push("linux.resources.blockIO.leafWeight is ignored on cgroup v2".into());
    }
    for wd in io.weight_device().iter().flatten() {
        let dev = dev_num("blockIO.weightDevice", wd.major(), wd.minor())?;
        if wd.leaf_weight().is_some_and(|w| w != 0) {
            p.warnings.push(format!("linux.resources.blockIO.weightDevice {dev}: leafWeight is ignored on cgroup v2"));
        }
        let Some(w) = wd.weight().filter(|&w| w != 0) else { continue };
        if !(10..=1000).contains(&w) {
            return Err(invalid("blockIO.weightDevice.weight", format!("{w} is outside 10-1000")));
        }
        let kind = WriteKind::Fallback { file: "io.weight".into(), value: format!("{dev} {}", convert_blkio_weight(w)) };
        p.writes.push(Write { file: "io.bfq.weight".into(), value: format!("{dev} {w}"), kind });
    }
    let throttles = [
        ("blockIO.throttleReadBpsDevice", "rbps", io.throttle_read_bps_device()),
        ("blockIO.throttleWriteBpsDevice", "wbps", io.throttle_write_bps_device()),
        ("blockIO.throttleReadIOPSDevice", "riops", io.throttle_read_iops_device()),
        ("blockIO.throttleWriteIOPSDevice", "wiops", io.throttle_write_iops_device()),
    ];
    for (field, key, list) in throttles {
        for td in list.iter().flatten() {
            let dev = dev_num(field, td.major(), td.minor())?;
            p.writes.push(Write::req("io.max", format!("{dev} {key}={}", td.rate())));
        }
    }
    Ok(())
}

/// A hugepage size as the kernel names it: digits then KB, MB or GB.
fn valid_page_size(s: &str) -> bool {
    let digits = s.trim_end_matches(['K', 'M', 'G', 'B']);
    let unit = &s[digits.len()..];
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && matches!(unit, "KB" | "MB" | "GB")
}

fn plan_hugetlb(r: &LinuxResources, p: &mut Plan) -> Result<()> {
    for h in r.hugepage_limits().iter().flatten() {
        let size = h.page_size();
        if !valid_page_size(size) {
            return Err(invalid("hugepageLimits.pageSize", format!("{size:?} is not a size like 2MB or 1GB")));
        }
        let v = match h.limit() {
            -1 => "max".to_string(),
            l if l < 0 => return Err(invalid("hugepageLimits.limit", format!("{l} is negative"))),
            l => l.to_string(),
        };
        p.writes.push(Write::req(format!("hugetlb.{size}.max"), v.clone()));
        // .rsvd.max exists since Linux 5.7; runc skips it where missing.
        p.writes.push(Write::opt(format!("hugetlb.{size}.rsvd.max"), v));
    }
    Ok(())
}

fn plan_rdma(r: &LinuxResources, p: &mut Plan) -> Result<()> {
    let Some(map) = r.rdma() else { return Ok(()) };
    let mut devs: Vec<_> = map.iter().collect();
    devs.sort_by(|a, b| a.0.cmp(b.0));
    for (dev, lim) in devs {
        if dev.is_empty() || dev.contains(|c: char| c.is_whitespace() || c == '/' || c == '\0') {
            return Err(invalid("rdma", format!("{dev:?} is not a device name")));
        }
        let mut parts = Vec::new();
        if let Some(h) = lim.hca_handles() {
            parts.push(format!("hca_handle={h}"));
        }
        if let Some(o) = lim.hca_objects() {
            parts.push(format!("hca_object={o}"));
        }
        if !parts.is_empty() {
            p.writes.push(Write::req("rdma.max", format!("{dev} {}", parts.join(" "))));
        }
    }
    Ok(())
}

/// Checks a `unified` key: a plain file name of the form CONTROLLER.PARAM.
pub fn check_unified_key(key: &str) -> Result<()> {
    let bad = |why: &str| invalid(&format!("unified.{key}"), why);
    if key.is_empty() || key == "." || key == ".." || key.contains("..") {
        return Err(bad("not a cgroup file name"));
    }
    if key.contains(['/', '\0', '\n']) {
        return Err(bad("must be a file name (no slashes)"));
    }
    match key.split_once('.') {
        Some((c, param)) if !c.is_empty() && !param.is_empty() => Ok(()),
        _ => Err(bad("must have the form CONTROLLER.PARAMETER")),
    }
}

fn plan_unified(r: &LinuxResources, p: &mut Plan) -> Result<()> {
    let Some(map) = r.unified() else { return Ok(()) };
    let mut keys: Vec<_> = map.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in keys {
        check_unified_key(k)?;
        // runc writes multi-line values line by line (e.g. io.max entries).
        let lines: Vec<&str> = v.split('\n').filter(|l| !l.is_empty()).collect();
        if lines.is_empty() {
            p.writes.push(Write::req(k.clone(), v.clone()));
        }
        for l in lines {
            p.writes.push(Write::req(k.clone(), l));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
