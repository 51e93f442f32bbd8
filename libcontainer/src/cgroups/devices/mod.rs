//! Device access control on cgroup v2: `linux.resources.devices` plus runc's
//! default allowed devices, folded with runc's v1 emulator semantics, compiled
//! to a BPF_PROG_TYPE_CGROUP_DEVICE program and attached to the cgroup.
//!
//! Plan then apply: [`compile`] is pure (and fuzzed); [`attach`] loads the
//! program and swaps it in atomically (BPF_F_REPLACE when exactly one
//! program is attached, else attach-new-then-detach-old, as runc does).

mod emulator;
mod program;

pub use program::{Insn, Program};

use std::ffi::CStr;
use std::fmt;
use std::os::fd::AsFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};

use crate::error::{Context, Error, Result};
use crate::sys::bpf;
use emulator::Emulator;

/// The device type a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DevType {
    /// `a`: every device (a reset rule).
    All,
    /// `b`: block devices.
    Block,
    /// `c`: character devices.
    Char,
}

impl DevType {
    fn letter(self) -> char {
        match self {
            DevType::All => 'a',
            DevType::Block => 'b',
            DevType::Char => 'c',
        }
    }
}

/// A set of device accesses, with the kernel's BPF_DEVCG_ACC_* bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access(u8);

impl Access {
    /// mknod(2).
    pub const MKNOD: Access = Access(1);
    /// open for reading.
    pub const READ: Access = Access(2);
    /// open for writing.
    pub const WRITE: Access = Access(4);
    /// `rwm`.
    pub const ALL: Access = Access(7);

    /// Parses a non-empty `rwm` subset; None for anything else.
    pub fn parse(s: &str) -> Option<Access> {
        if s.is_empty() {
            return None;
        }
        s.chars().try_fold(Access(0), |a, c| match c {
            'r' => Some(a.union(Access::READ)),
            'w' => Some(a.union(Access::WRITE)),
            'm' => Some(a.union(Access::MKNOD)),
            _ => None,
        })
    }

    /// The raw bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    fn union(self, o: Access) -> Access {
        Access(self.0 | o.0)
    }

    fn intersection(self, o: Access) -> Access {
        Access(self.0 & o.0)
    }

    fn difference(self, o: Access) -> Access {
        Access(self.0 & !o.0)
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (bit, c) in [(Access::READ, 'r'), (Access::WRITE, 'w'), (Access::MKNOD, 'm')] {
            if !self.intersection(bit).is_empty() {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// One device rule, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Allow (true) or deny.
    pub allow: bool,
    /// The device type.
    pub typ: DevType,
    /// The major number, None for any.
    pub major: Option<u32>,
    /// The minor number, None for any.
    pub minor: Option<u32>,
    /// The accesses the rule is about.
    pub access: Access,
}

const fn allow_char(major: Option<u32>, minor: Option<u32>, access: Access) -> Rule {
    Rule { allow: true, typ: DevType::Char, major, minor, access }
}

/// runc's `specconv.AllowedDevices`, with the device path each one belongs
/// to (a default is dropped when `linux.devices` has a device at that path,
/// as runc does).
pub const DEFAULT_RULES: [(Option<&str>, Rule); 10] = [
    (None, allow_char(None, None, Access::MKNOD)),
    (None, Rule { allow: true, typ: DevType::Block, major: None, minor: None, access: Access::MKNOD }),
    (Some("/dev/null"), allow_char(Some(1), Some(3), Access::ALL)),
    (Some("/dev/random"), allow_char(Some(1), Some(8), Access::ALL)),
    (Some("/dev/full"), allow_char(Some(1), Some(7), Access::ALL)),
    (Some("/dev/tty"), allow_char(Some(5), Some(0), Access::ALL)),
    (Some("/dev/zero"), allow_char(Some(1), Some(5), Access::ALL)),
    (Some("/dev/urandom"), allow_char(Some(1), Some(9), Access::ALL)),
    (None, allow_char(Some(136), None, Access::ALL)),
    (None, allow_char(Some(5), Some(2), Access::ALL)),
];

/// Validates spec rule number `i` as runc's specconv does: type a/b/c
/// (absent = a), absent or negative numbers are wildcards, access is a
/// non-empty subset of `rwm`.
pub fn rule_from_spec(i: usize, d: &LinuxDeviceCgroup) -> Result<Rule> {
    let field = |what: &str| format!("linux.resources.devices[{i}].{what}");
    let typ = match d.typ() {
        None | Some(LinuxDeviceType::A) => DevType::All,
        Some(LinuxDeviceType::B) => DevType::Block,
        Some(LinuxDeviceType::C) => DevType::Char,
        Some(t) => return Err(Error::config(field("type"), format!("{:?} is not a cgroup device type (a, b or c)", t.as_str()))),
    };
    let num = |v: Option<i64>, what: &str| -> Result<Option<u32>> {
        match v {
            None => Ok(None),
            Some(n) if n < 0 => Ok(None),
            Some(n) => u32::try_from(n).map(Some).map_err(|_| Error::config(field(what), format!("{n} is out of range"))),
        }
    };
    let access = d.access().as_deref().unwrap_or("");
    let access = Access::parse(access)
        .ok_or_else(|| Error::config(field("access"), format!("{access:?} must be a non-empty combination of r, w and m")))?;
    Ok(Rule { allow: d.allow(), typ, major: num(d.major(), "major")?, minor: num(d.minor(), "minor")?, access })
}

/// The full rule list runc would use: the spec's rules, then the defaults
/// (minus those whose path `linux.devices` redefines).
pub fn effective_rules(spec_rules: &[LinuxDeviceCgroup], spec_devices: &[LinuxDevice]) -> Result<Vec<Rule>> {
    let mut rules = spec_rules.iter().enumerate().map(|(i, d)| rule_from_spec(i, d)).collect::<Result<Vec<_>>>()?;
    for (path, rule) in DEFAULT_RULES {
        if path.is_some_and(|p| spec_devices.iter().any(|d| d.path() == Path::new(p))) {
            continue;
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// Compiles an ordered rule list to a device program. Pure.
pub fn compile_rules(rules: &[Rule]) -> Result<Program> {
    let mut emu = Emulator::new();
    for r in rules {
        emu.apply(r)?;
    }
    Ok(program::build(&emu))
}

/// Compiles `linux.resources.devices` (plus runc's defaults) to a device
/// program. Never panics, on any input: this is a fuzzing entry point.
pub fn compile(spec_rules: &[LinuxDeviceCgroup], spec_devices: &[LinuxDevice]) -> Result<Program> {
    compile_rules(&effective_rules(spec_rules, spec_devices)?)
}

const LICENSE: &CStr = c"Apache-2.0";

/// How many device programs are attached directly to the cgroup at `dir`
/// (1 after [`attach`], which replaces rather than stacks).
pub fn attached(dir: &Path) -> Result<usize> {
    let cg = open(dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty()).ctx("open cgroup", dir)?;
    Ok(bpf::prog_query_device(cg.as_fd()).ctx("bpf(BPF_PROG_QUERY, cgroup_device)", dir)?.len())
}

/// Loads `prog` and makes it the only device program of the cgroup at
/// `dir`: atomically replacing the one program already there
/// (BPF_F_REPLACE), or attaching alongside and then detaching the old ones.
pub fn attach(dir: &Path, prog: &Program) -> Result<()> {
    let cg = open(dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty()).ctx("open cgroup", dir)?;
    let ids = bpf::prog_query_device(cg.as_fd()).ctx("bpf(BPF_PROG_QUERY, cgroup_device)", dir)?;
    let mut old = Vec::new();
    for id in ids {
        match bpf::prog_fd_by_id(id) {
            Ok(fd) => old.push(fd),
            Err(Errno::ENOENT) => {} // detached meanwhile
            Err(e) => return Err(Error::sys(format!("bpf(BPF_PROG_GET_FD_BY_ID, {id})"), dir, e)),
        }
    }
    let new = bpf::prog_load_cgroup_device(&prog.encode(), LICENSE).map_err(|(errno, log)| {
        let op = if log.is_empty() { "bpf(BPF_PROG_LOAD, cgroup_device)".to_string() } else { format!("bpf(BPF_PROG_LOAD, cgroup_device) [verifier: {log}]") };
        Error::sys(op, dir, errno)
    })?;
    if let [only] = old.as_slice() {
        match bpf::prog_attach(cg.as_fd(), new.as_fd(), bpf::F_ALLOW_MULTI, Some(only.as_fd())) {
            Ok(()) => return Ok(()),
            // Kernels before 5.6 lack BPF_F_REPLACE: fall back below.
            Err(Errno::EINVAL) => {}
            Err(e) => return Err(Error::sys("bpf(BPF_PROG_ATTACH, cgroup_device, BPF_F_REPLACE)", dir, e)),
        }
    }
    bpf::prog_attach(cg.as_fd(), new.as_fd(), bpf::F_ALLOW_MULTI, None).ctx("bpf(BPF_PROG_ATTACH, cgroup_device)", dir)?;
    for fd in &old {
        match bpf::prog_detach(cg.as_fd(), fd.as_fd()) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(Error::sys("bpf(BPF_PROG_DETACH, cgroup_device)", dir, e)),
        }
    }
    Ok(())
}
