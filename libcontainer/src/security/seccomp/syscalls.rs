//! The architectures brig filters and their syscall numbers by name.
//!
//! On an x86_64 host a process can make syscalls in three ABIs, and the
//! kernel shows each to seccomp differently:
//! - x86_64: AUDIT_ARCH_X86_64, plain numbers;
//! - x32: also AUDIT_ARCH_X86_64, numbers with bit 30 (__X32_SYSCALL_BIT) set;
//! - x86 (int 0x80): AUDIT_ARCH_I386, the i386 numbers, 32-bit arguments.
//!
//! So a filter must check the arch word and, for x86_64, the x32 bit before
//! it compares syscall numbers, or an i386 `mkdir` (39) would be read as the
//! x86_64 `shmat` (39).

#[path = "tables/x32.rs"]
mod x32;
#[path = "tables/x86.rs"]
mod x86;
#[path = "tables/x86_64.rs"]
mod x86_64;

/// AUDIT_ARCH_X86_64 of <linux/audit.h>.
pub(crate) const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
/// AUDIT_ARCH_I386 of <linux/audit.h>.
pub(crate) const AUDIT_ARCH_I386: u32 = 3 | 0x4000_0000;
/// __X32_SYSCALL_BIT: x32 syscall numbers have it set.
pub(crate) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// An ABI the filter distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Arch {
    /// 64-bit x86.
    X86_64,
    /// i386 (32-bit x86, including int 0x80 from 64-bit processes).
    X86,
    /// x32 (ILP32 on x86_64).
    X32,
}

impl Arch {
    /// The architecture brig itself runs as.
    pub(crate) fn native() -> Arch {
        Arch::X86_64
    }

    /// True if processes on this host can make syscalls in this ABI.
    pub(crate) fn runs_here(self) -> bool {
        cfg!(target_arch = "x86_64")
    }

    /// True if syscall arguments are 64-bit wide (compared as qwords).
    pub(crate) fn wide_args(self) -> bool {
        !matches!(self, Arch::X86)
    }

    fn table(self) -> &'static [(&'static str, u32)] {
        match self {
            Arch::X86_64 => x86_64::X86_64,
            Arch::X86 => x86::X86,
            Arch::X32 => x32::X32,
        }
    }

    /// Every syscall name of this ABI (tests build large profiles from it).
    #[cfg(test)]
    pub(crate) fn names(self) -> impl Iterator<Item = &'static str> {
        self.table().iter().map(|(n, _)| *n)
    }

    /// The syscall number of `name` in this ABI, if it has that syscall.
    pub(crate) fn number(self, name: &str) -> Option<u32> {
        let t = self.table();
        t.binary_search_by(|(n, _)| (*n).cmp(name)).ok().map(|i| t[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for a in [Arch::X86_64, Arch::X86, Arch::X32] {
            assert!(a.table().windows(2).all(|w| w[0].0 < w[1].0), "{a:?}");
        }
    }

    #[test]
    fn numbers_match_the_abis() {
        assert_eq!(Arch::X86_64.number("mkdir"), Some(libc::SYS_mkdir as u32));
        assert_eq!(Arch::X86_64.number("openat2"), Some(437));
        assert_eq!(Arch::X86.number("mkdir"), Some(39));
        assert_eq!(Arch::X86.number("socketcall"), Some(102));
        assert_eq!(Arch::X86_64.number("socketcall"), None);
        assert_eq!(Arch::X32.number("mkdir"), Some(X32_SYSCALL_BIT | 83));
        // x32's own compat entry points live at 512+.
        assert_eq!(Arch::X32.number("ioctl"), Some(X32_SYSCALL_BIT | 514));
        assert_eq!(Arch::X86_64.number("no_such_call"), None);
    }
}
