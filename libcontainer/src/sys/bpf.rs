//! bpf(2) for cgroup device programs: load, attach (with BPF_F_REPLACE),
//! detach, query and get-fd-by-id. Each command gets its own `bpf_attr`
//! prefix struct, laid out as in `include/uapi/linux/bpf.h`; the kernel
//! treats the bytes we do not pass as zero.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;

/// BPF_PROG_TYPE_CGROUP_DEVICE.
const PROG_TYPE_CGROUP_DEVICE: u32 = 15;
/// BPF_CGROUP_DEVICE, the attach type.
const ATTACH_CGROUP_DEVICE: u32 = 6;
/// BPF_F_ALLOW_MULTI: several programs may be attached to one cgroup.
pub(crate) const F_ALLOW_MULTI: u32 = 1 << 1;
/// BPF_F_REPLACE: atomically replace `replace_bpf_fd` (Linux 5.6).
pub(crate) const F_REPLACE: u32 = 1 << 2;

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// bpf(cmd, attr, sizeof attr) returning the non-negative result.
fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> Result<libc::c_long, Errno> {
    let size = std::mem::size_of::<T>();
    // SAFETY: `attr` is a valid, writable, repr(C) bpf_attr prefix of `size`
    // bytes for the duration of the call; every pointer stored inside it
    // (instructions, license, buffers) is kept alive by the caller.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret)
}

fn own_fd(ret: libc::c_long) -> Result<OwnedFd, Errno> {
    let fd = i32::try_from(ret).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program from encoded instructions
/// (8 bytes each). On failure, returns the errno and the verifier's log.
pub(crate) fn prog_load_cgroup_device(insns: &[u8], license: &CStr) -> Result<OwnedFd, (Errno, String)> {
    let insn_cnt = u32::try_from(insns.len() / 8).map_err(|_| (Errno::E2BIG, String::new()))?;
    let mut attr = ProgLoadAttr {
        prog_type: PROG_TYPE_CGROUP_DEVICE,
        insn_cnt,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        expected_attach_type: ATTACH_CGROUP_DEVICE,
        ..Default::default()
    };
    attr.prog_name[..9].copy_from_slice(b"brig_devs");
    match bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => own_fd(fd).map_err(|e| (e, String::new())),
        Err(errno) => {
            // Load again with a log, only to explain the failure.
            let mut log = vec![0u8; 16 * 1024];
            attr.log_level = 1;
            attr.log_size = log.len() as u32;
            attr.log_buf = log.as_mut_ptr() as u64;
            let _ = bpf(BPF_PROG_LOAD, &mut attr);
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            Err((errno, String::from_utf8_lossy(&log[..end]).trim().to_string()))
        }
    }
}

/// Attaches `prog` to the cgroup `target` as a device program with `flags`;
/// with `replace`, atomically in place of that program (BPF_F_REPLACE).
pub(crate) fn prog_attach(target: BorrowedFd<'_>, prog: BorrowedFd<'_>, flags: u32, replace: Option<BorrowedFd<'_>>) -> Result<(), Errno> {
    let mut attr = AttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: ATTACH_CGROUP_DEVICE,
        attach_flags: flags | if replace.is_some() { F_REPLACE } else { 0 },
        replace_bpf_fd: replace.map_or(0, |r| r.as_raw_fd() as u32),
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map(drop)
}

/// Detaches the device program `prog` from the cgroup `target`.
pub(crate) fn prog_detach(target: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut attr = AttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: ATTACH_CGROUP_DEVICE,
        ..Default::default()
    };
    bpf(BPF_PROG_DETACH, &mut attr).map(drop)
}

/// The ids of the device programs attached directly to the cgroup `target`.
pub(crate) fn prog_query_device(target: BorrowedFd<'_>) -> Result<Vec<u32>, Errno> {
    let mut ids = vec![0u32; 64];
    loop {
        let mut attr = QueryAttr {
            target_fd: target.as_raw_fd() as u32,
            attach_type: ATTACH_CGROUP_DEVICE,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: ids.len() as u32,
            ..Default::default()
        };
        match bpf(BPF_PROG_QUERY, &mut attr) {
            Ok(_) => {
                ids.truncate(attr.prog_cnt as usize);
                return Ok(ids);
            }
            Err(Errno::ENOSPC) if (attr.prog_cnt as usize) > ids.len() => ids.resize(attr.prog_cnt as usize, 0),
            Err(e) => return Err(e),
        }
    }
}

/// An fd for the loaded program with id `id`.
pub(crate) fn prog_fd_by_id(id: u32) -> Result<OwnedFd, Errno> {
    let mut attr = GetFdAttr { prog_id: id, ..Default::default() };
    own_fd(bpf(BPF_PROG_GET_FD_BY_ID, &mut attr)?)
}
