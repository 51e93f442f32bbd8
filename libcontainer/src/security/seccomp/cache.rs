//! Compiled filter stacks cached by content under the state root:
//! `<root>/.seccomp@cache/<hash>`, so that repeated creates with the same
//! profile (the common case: every container of an engine gets its default
//! profile) do not recompile it.
//!
//! The file name is a 64-bit hash of the profile, but a hit is only taken
//! when the profile stored inside the file is byte-for-byte the one asked
//! for: a collision, crafted or not, costs a recompile, never a wrong
//! filter. Files are written to a temporary name and renamed, so a reader
//! never sees half a file; anything malformed is ignored.

use std::fs::{self, DirBuilder};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxSeccomp;
use seccompiler::sock_filter;

use super::bpf::{Filter, MAX_INSNS};
use super::Program;
use crate::error::{Error, Result};

/// The cache's directory under the state root. '@' cannot occur in a
/// container id, so no container's state dir can ever be this one.
pub(crate) const DIR: &str = ".seccomp@cache";
/// Bumped whenever the compiler's output for a given profile may change.
const MAGIC: &[u8; 8] = b"BRIGSC01";

/// The part of the profile the BPF depends on, serialized canonically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    bytes: Vec<u8>,
}

impl Key {
    /// The key for `s`: its JSON, without the listener fields (they do not
    /// change the BPF), and with brig's version (the compiler may change).
    pub(crate) fn new(s: &LinuxSeccomp) -> Result<Key> {
        let mut s = s.clone();
        s.set_listener_path(None);
        s.set_listener_metadata(None);
        let mut bytes = env!("CARGO_PKG_VERSION").as_bytes().to_vec();
        bytes.push(0);
        serde_json::to_writer(&mut bytes, &s)
            .map_err(|e| Error::config("linux.seccomp", format!("cannot serialize for the cache: {e}")))?;
        Ok(Key { bytes })
    }

    fn file_name(&self) -> String {
        let mut h = DefaultHasher::new();
        self.bytes.hash(&mut h);
        format!("{:016x}", h.finish())
    }
}

fn path(root: &Path, key: &Key) -> PathBuf {
    root.join(DIR).join(key.file_name())
}

/// The cached program for `key`, if a valid entry exists.
pub(crate) fn load(root: &Path, key: &Key) -> Option<Program> {
    let data = fs::read(path(root, key)).ok()?;
    decode(&data, key)
}

/// Stores `p` for `key`. Failures are ignored: the cache only saves time,
/// and a read-only or full state root must not fail a create.
pub(crate) fn store(root: &Path, key: &Key, p: &Program) {
    let _ = try_store(root, key, p);
}

fn try_store(root: &Path, key: &Key, p: &Program) -> std::io::Result<()> {
    let dir = root.join(DIR);
    DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    let dst = path(root, key);
    let tmp = dir.join(format!(".{}.{}.tmp", key.file_name(), std::process::id()));
    let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    let written = f.write_all(&encode(key, p)).and_then(|()| fs::rename(&tmp, &dst));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// MAGIC, key length and key, filter count, then per filter: flags,
/// instruction count, instructions (code u16, jt, jf, k u32; little endian),
/// then the skipped names as one length-prefixed, NUL-separated string.
pub(crate) fn encode(key: &Key, p: &Program) -> Vec<u8> {
    let mut v = Vec::with_capacity(64 + key.bytes.len() + p.size().1 * 8);
    v.extend_from_slice(MAGIC);
    put_u32(&mut v, key.bytes.len());
    v.extend_from_slice(&key.bytes);
    put_u32(&mut v, p.filters.len());
    for f in &p.filters {
        v.extend_from_slice(&f.flags.to_le_bytes());
        put_u32(&mut v, f.insns.len());
        for i in &f.insns {
            v.extend_from_slice(&i.code.to_le_bytes());
            v.extend_from_slice(&[i.jt, i.jf]);
            v.extend_from_slice(&i.k.to_le_bytes());
        }
    }
    let skipped = p.skipped.join("\0");
    put_u32(&mut v, skipped.len());
    v.extend_from_slice(skipped.as_bytes());
    v
}

fn put_u32(v: &mut Vec<u8>, n: usize) {
    v.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

/// Decodes a cache file; None unless it is well-formed and made for `key`.
pub(crate) fn decode(data: &[u8], key: &Key) -> Option<Program> {
    let mut r = Reader { data };
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let klen = r.u32()? as usize;
    if r.take(klen)? != key.bytes.as_slice() {
        return None;
    }
    let count = r.u32()? as usize;
    let mut filters = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let flags = r.u32()?;
        let n = r.u32()? as usize;
        if n == 0 || n > MAX_INSNS {
            return None;
        }
        let mut insns = Vec::with_capacity(n);
        for _ in 0..n {
            let b = r.take(8)?;
            let code = u16::from_le_bytes([b[0], b[1]]);
            insns.push(sock_filter { code, jt: b[2], jf: b[3], k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]) });
        }
        filters.push(Filter { insns, flags });
    }
    let len = r.u32()? as usize;
    let rest = std::str::from_utf8(r.take(len)?).ok()?;
    if !r.data.is_empty() {
        return None;
    }
    let skipped = if rest.is_empty() { Vec::new() } else { rest.split('\0').map(str::to_string).collect() };
    Some(Program { filters, skipped })
}

struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.data.len() < n {
            return None;
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}
