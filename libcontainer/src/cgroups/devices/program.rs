//! The BPF_PROG_TYPE_CGROUP_DEVICE program, written as raw instructions.
//!
//! The kernel calls it with `struct bpf_cgroup_dev_ctx { u32 access_type;
//! u32 major; u32 minor; }`, where `access_type` is `(access << 16) | type`.
//! It returns 1 to allow and 0 to deny. Layout (as runc's devicefilter):
//!
//! ```text
//!   r2 = ctx->access_type & 0xffff      device type
//!   r3 = ctx->access_type >> 16         requested access
//!   r4 = ctx->major; r5 = ctx->minor
//!   for each exception:
//!     if r2 != type: next               (omitted for no type)
//!     if r3 & ~access: next             (omitted for rwm)
//!     if r4 != major: next              (omitted for *)
//!     if r5 != minor: next              (omitted for *)
//!     return !default
//!   return default
//! ```
//! All comparisons use the 32-bit jump class, so majors and minors up to
//! u32::MAX compare correctly.

use super::emulator::Emulator;
use super::{Access, DevType};

/// `BPF_DEVCG_DEV_BLOCK` and `BPF_DEVCG_DEV_CHAR`.
pub(crate) const DEV_BLOCK: i32 = 1;
pub(crate) const DEV_CHAR: i32 = 2;

/// Opcodes used (class | op | source).
pub(crate) mod op {
    /// BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off).
    pub const LDX_W: u8 = 0x61;
    /// BPF_ALU | BPF_AND | BPF_K: dst &= imm (32-bit).
    pub const AND32_K: u8 = 0x54;
    /// BPF_ALU | BPF_RSH | BPF_K: dst >>= imm (32-bit).
    pub const RSH32_K: u8 = 0x74;
    /// BPF_ALU | BPF_MOV | BPF_K: dst = imm (32-bit).
    pub const MOV32_K: u8 = 0xb4;
    /// BPF_JMP32 | BPF_JNE | BPF_K: if dst != imm goto pc + off.
    pub const JNE32_K: u8 = 0x56;
    /// BPF_JMP32 | BPF_JSET | BPF_K: if dst & imm goto pc + off.
    pub const JSET32_K: u8 = 0x46;
    /// BPF_JMP | BPF_EXIT: return r0.
    pub const EXIT: u8 = 0x95;
}

/// One BPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The opcode.
    pub code: u8,
    /// Destination register (0-10).
    pub dst: u8,
    /// Source register (0-10).
    pub src: u8,
    /// Signed offset (memory offset or jump distance).
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn { code, dst, src, off, imm }
    }

    /// The kernel's 8-byte encoding: code, dst|src<<4, off (LE), imm (LE).
    pub fn encode(&self) -> [u8; 8] {
        let o = self.off.to_le_bytes();
        let i = self.imm.to_le_bytes();
        [self.code, (self.dst & 0x0f) | (self.src << 4), o[0], o[1], i[0], i[1], i[2], i[3]]
    }
}

/// A compiled device program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The instructions.
    pub insns: Vec<Insn>,
    /// True if devices no exception matches are allowed (deny-list mode).
    pub default_allow: bool,
}

impl Program {
    /// The instructions in the kernel's encoding.
    pub fn encode(&self) -> Vec<u8> {
        self.insns.iter().flat_map(Insn::encode).collect()
    }
}

/// The program for an emulated rule set.
pub(crate) fn build(emu: &Emulator) -> Program {
    let mut insns = vec![
        Insn::new(op::LDX_W, 2, 1, 0, 0),
        Insn::new(op::AND32_K, 2, 0, 0, 0xffff),
        Insn::new(op::LDX_W, 3, 1, 0, 0),
        Insn::new(op::RSH32_K, 3, 0, 0, 16),
        Insn::new(op::LDX_W, 4, 1, 4, 0),
        Insn::new(op::LDX_W, 5, 1, 8, 0),
    ];
    for (&(typ, major, minor), &access) in &emu.rules {
        insns.extend(block(typ, major, minor, access, !emu.default_allow));
    }
    insns.push(Insn::new(op::MOV32_K, 0, 0, 0, i32::from(emu.default_allow)));
    insns.push(Insn::new(op::EXIT, 0, 0, 0, 0));
    Program { insns, default_allow: emu.default_allow }
}

/// One exception: the checks, each jumping past the block on mismatch, then
/// `return allow`.
fn block(typ: DevType, major: Option<u32>, minor: Option<u32>, access: Access, allow: bool) -> Vec<Insn> {
    let mut b = Vec::new();
    match typ {
        DevType::Block => b.push(Insn::new(op::JNE32_K, 2, 0, 0, DEV_BLOCK)),
        DevType::Char => b.push(Insn::new(op::JNE32_K, 2, 0, 0, DEV_CHAR)),
        DevType::All => {}
    }
    if access != Access::ALL {
        // Any requested bit outside the rule's access: no match.
        b.push(Insn::new(op::JSET32_K, 3, 0, 0, i32::from(!access.bits() & Access::ALL.bits())));
    }
    if let Some(m) = major {
        b.push(Insn::new(op::JNE32_K, 4, 0, 0, m as i32));
    }
    if let Some(m) = minor {
        b.push(Insn::new(op::JNE32_K, 5, 0, 0, m as i32));
    }
    b.push(Insn::new(op::MOV32_K, 0, 0, 0, i32::from(allow)));
    b.push(Insn::new(op::EXIT, 0, 0, 0, 0));
    let len = b.len();
    for (i, insn) in b.iter_mut().enumerate() {
        if insn.code == op::JNE32_K || insn.code == op::JSET32_K {
            // Jump to the first instruction after this block.
            insn.off = (len - i - 1) as i16;
        }
    }
    b
}

#[cfg(test)]
#[path = "program_tests.rs"]
mod tests;
