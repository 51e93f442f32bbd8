//! Handing extra fds to the runtime, as a careless caller would.

/// Opens files `preserved-FD` and dup2s them onto `fds` in the child only (dup2
/// clears CLOEXEC), so the runtime inherits them. Keep the result until the
/// command was spawned.
pub fn leak_fds(cmd: &mut std::process::Command, fds: &[i32]) -> (crate::TempDir, Vec<std::fs::File>) {
    let dir = crate::TempDir::new("fds");
    let files: Vec<(i32, std::fs::File)> = fds
        .iter()
        .map(|&fd| {
            let path = dir.join(format!("preserved-{fd}"));
            std::fs::write(&path, "x").unwrap();
            (fd, std::fs::File::open(&path).unwrap())
        })
        .collect();
    let raw: Vec<(i32, i32)> = files.iter().map(|(fd, f)| (*fd, std::os::fd::AsRawFd::as_raw_fd(f))).collect();
    // SAFETY: only fcntl, dup2 and close, which are async-signal-safe, run
    // between fork and exec. First move every source above any target, so no
    // dup2 clobbers a source and none is a no-op that keeps CLOEXEC.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, move || {
            let mut high = vec![];
            for &(_, have) in &raw {
                let h = libc::fcntl(have, libc::F_DUPFD, 100);
                if h < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                high.push(h);
            }
            for (&(want, _), &h) in raw.iter().zip(&high) {
                if libc::dup2(h, want) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(h);
            }
            Ok(())
        });
    }
    (dir, files.into_iter().map(|(_, f)| f).collect())
}
