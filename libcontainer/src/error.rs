//! brig's one error type. Every variant names what was being done, on what,
//! and why it failed, so that the message alone lets an operator fix it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

/// The result type of every fallible brig operation.
pub type Result<T> = std::result::Result<T, Error>;

/// An error from the library. Printed once, by the caller, as one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed.
    #[error("{op} {}: {errno}", path.display())]
    Sys {
        /// The operation, e.g. `mount` or `openat2`.
        op: Cow<'static, str>,
        /// The path (or other object) it acted on.
        path: PathBuf,
        /// The errno the kernel returned.
        errno: Errno,
    },
    /// config.json (or another JSON input) is malformed or invalid.
    #[error("invalid {file}: {field}: {reason}")]
    Config {
        /// The file, e.g. `config.json`.
        file: Cow<'static, str>,
        /// The JSON path of the offending field, e.g. `process.user.uid`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The container id is not acceptable.
    #[error("invalid container id {id:?}: {reason}")]
    InvalidId {
        /// The id as given.
        id: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// No container with this id exists under the state root.
    #[error("container {id:?} does not exist")]
    NotFound {
        /// The id looked up.
        id: String,
    },
    /// A container with this id already exists.
    #[error("container {id:?} already exists")]
    Exists {
        /// The id.
        id: String,
    },
    /// The container is not in a status that allows the operation.
    #[error("cannot {op} container {id:?}: it is {status}")]
    BadStatus {
        /// The operation refused.
        op: &'static str,
        /// The container id.
        id: String,
        /// Its current status.
        status: String,
    },
    /// A lifecycle hook failed.
    #[error("{stage} hook {}: {reason}", path.display())]
    Hook {
        /// The hook stage, e.g. `prestart`.
        stage: &'static str,
        /// The hook binary.
        path: PathBuf,
        /// What went wrong (exit status, timeout, or spawn error).
        reason: String,
    },
    /// The container's process (the init, or an exec'd process) failed
    /// during setup; `message` is its own error line, which names the
    /// operation, path and errno. Worded as runc words it, since engines
    /// show it to users as is.
    #[error("unable to start container process: {message}")]
    InitFailed {
        /// The init's error message.
        message: String,
        /// The errno behind it, if any.
        errno: Option<Errno>,
    },
    /// `process.args[0]` cannot be run. Worded as runc words it, in lower
    /// case, because engines take the exit code from these words: docker
    /// and podman give 127 for "executable file not found" or "no such file
    /// or directory" and 126 for "permission denied".
    #[error("exec: {prog:?}: {} ({errno:?})", exec_reason(.search_path.as_deref(), *.errno))]
    Exec {
        /// `args[0]` as given.
        prog: String,
        /// The `$PATH` searched, when `args[0]` has no `/` and was not found.
        search_path: Option<String>,
        /// Why it cannot be run (ENOENT when the search found nothing).
        errno: Errno,
    },
    /// A feature the config asks for that brig cannot provide on this host.
    #[error("{what}: {reason}")]
    Unsupported {
        /// The feature or field.
        what: Cow<'static, str>,
        /// Why it cannot be provided.
        reason: Cow<'static, str>,
    },
}

impl Error {
    /// A failed system call on `path`.
    pub fn sys(op: impl Into<Cow<'static, str>>, path: impl AsRef<Path>, errno: Errno) -> Self {
        Error::Sys { op: op.into(), path: path.as_ref().to_path_buf(), errno }
    }

    /// A failed std I/O call on `path`; the errno is taken from the io error.
    pub fn io(op: impl Into<Cow<'static, str>>, path: impl AsRef<Path>, err: &std::io::Error) -> Self {
        let errno = err.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
        Error::sys(op, path, errno)
    }

    /// An invalid field in config.json.
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config { file: "config.json".into(), field: field.into(), reason: reason.into() }
    }

    /// The errno behind this error, if it came from a system call.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Sys { errno, .. } => Some(*errno),
            Error::InitFailed { errno, .. } => *errno,
            Error::Exec { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

fn exec_reason(search_path: Option<&str>, errno: Errno) -> String {
    match search_path {
        Some(p) => format!("executable file not found in $PATH={p}"),
        None => errno.desc().to_lowercase(),
    }
}

/// The errno behind a pathrs error; EXDEV for a safety violation (a path
/// that tried to leave the root or its filesystem), EINVAL, ENOSYS or EIO
/// for the rest.
pub(crate) fn pathrs_errno(e: &pathrs::error::Error) -> Errno {
    use pathrs::error::ErrorKind;
    match e.kind() {
        ErrorKind::OsError(Some(n)) => Errno::from_raw(n),
        ErrorKind::SafetyViolation => Errno::EXDEV,
        ErrorKind::InvalidArgument => Errno::EINVAL,
        ErrorKind::NotImplemented | ErrorKind::NotSupported => Errno::ENOSYS,
        _ => Errno::EIO,
    }
}

/// Attaches an operation and a path to a `nix` or `std::io` result.
pub(crate) trait Context<T> {
    /// Maps the error to [`Error::Sys`] naming `op` and `path`.
    fn ctx(self, op: &'static str, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> Context<T> for nix::Result<T> {
    fn ctx(self, op: &'static str, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::sys(op, path, e))
    }
}

impl<T> Context<T> for std::io::Result<T> {
    fn ctx(self, op: &'static str, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(op, path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_error_names_op_path_errno() {
        let e = Error::sys("mount", "/x/proc", Errno::EPERM);
        assert_eq!(e.to_string(), "mount /x/proc: EPERM: Operation not permitted");
    }

    #[test]
    fn io_error_keeps_errno() {
        let io = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(Error::io("open", "/a", &io).errno(), Some(Errno::ENOENT));
    }
}
