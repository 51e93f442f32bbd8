//! process.*: user, groups, umask, capabilities, rlimits, env, cwd, fds, stdio.

use integration_tests::rootfs::{USER_GID, USER_UID};
use integration_tests::{cap_mask, Container, Spec};
use std::io::{Read, Write};
use std::process::Stdio;

#[test]
fn runs_as_root_by_default() {
    let p = Container::new("root", &Spec::new()).probe();
    assert_eq!(p.uids(), [0, 0, 0, 0]);
    assert_eq!(p.gids(), [0, 0, 0, 0]);
    assert!(p.groups().is_empty(), "groups {:?}", p.groups());
}

#[test]
fn runs_as_uid_and_gid() {
    let p = Container::new("uid", &Spec::new().user(USER_UID, USER_GID)).probe();
    assert_eq!(p.uids(), [USER_UID; 4]);
    assert_eq!(p.gids(), [USER_GID; 4]);
}

#[test]
fn additional_gids_are_the_supplementary_groups() {
    let spec = Spec::new().user(USER_UID, USER_GID).additional_gids(&[2001, 2002, 3333]);
    let p = Container::new("gids", &spec).probe();
    assert_eq!(p.groups(), [2001, 2002, 3333]);
    assert_eq!(p.gids()[0], USER_GID);
}

#[test]
fn umask_is_applied() {
    let p = Container::new("umask", &Spec::new().umask(0o027)).probe();
    assert_eq!(p.umask(), "0027");
    assert_eq!(p.status("Umask"), "0027");
}

#[test]
fn default_umask_is_0022() {
    let p = Container::new("umaskdef", &Spec::new()).probe();
    assert_eq!(p.umask(), "0022");
}

/// Effective is checked against permitted: a process exec'd as uid 0 gets its whole
/// permitted set as effective (capabilities(7)), so no runtime can show less.
#[test]
fn capability_sets_are_exact() {
    let bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID", "CAP_SYS_CHROOT"];
    let prm = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"];
    let inh = ["CAP_KILL", "CAP_NET_RAW"];
    let amb = ["CAP_KILL"];
    let spec = Spec::new()
        .caps("bounding", &bnd)
        .caps("permitted", &prm)
        .caps("effective", &prm)
        .caps("inheritable", &inh)
        .caps("ambient", &amb);
    let p = Container::new("caps", &spec).probe();
    assert_eq!(p.caps("Bnd"), cap_mask(&bnd), "bounding");
    assert_eq!(p.caps("Prm"), cap_mask(&prm), "permitted");
    assert_eq!(p.caps("Eff"), cap_mask(&prm), "effective (= permitted for uid 0)");
    assert_eq!(p.caps("Inh"), cap_mask(&inh), "inheritable");
    assert_eq!(p.caps("Amb"), cap_mask(&amb), "ambient");
}

#[test]
fn default_capabilities_are_runc_specs() {
    let p = Container::new("capsdef", &Spec::new()).probe();
    let want = cap_mask(&integration_tests::spec::DEFAULT_CAPS);
    assert_eq!(p.caps("Bnd"), want);
    assert_eq!(p.caps("Eff"), want);
    assert_eq!(p.caps("Prm"), want);
    assert_eq!(p.caps("Inh"), 0);
    assert_eq!(p.caps("Amb"), 0);
}

#[test]
fn capabilities_of_non_root_user() {
    let caps = ["CAP_NET_BIND_SERVICE"];
    let spec = Spec::new()
        .user(USER_UID, USER_GID)
        .caps("bounding", &caps)
        .caps("permitted", &caps)
        .caps("effective", &caps)
        .caps("inheritable", &caps)
        .caps("ambient", &caps);
    let p = Container::new("capsuser", &spec).probe();
    assert_eq!(p.uids(), [USER_UID; 4]);
    assert_eq!(p.caps("Eff"), cap_mask(&caps));
    assert_eq!(p.caps("Amb"), cap_mask(&caps));
}

#[test]
fn no_capabilities_when_sets_are_empty() {
    let spec = Spec::new().remove("/process/capabilities");
    let p = Container::new("capsnone", &spec).probe();
    assert_eq!(p.caps("Eff"), 0);
    assert_eq!(p.caps("Prm"), 0);
    assert_eq!(p.caps("Bnd"), 0);
}

#[test]
fn unknown_capability_is_an_error() {
    let c = Container::new("capbad", &Spec::new().caps("bounding", &["CAP_KILL", "CAP_NO_SUCH_THING"]));
    let out = c.create_with(&[]).fails();
    assert!(out.stderr.contains("CAP_NO_SUCH_THING"), "error should name the capability: {out}");
    assert!(!c.state_dir().exists());
}

#[test]
fn no_new_privileges_on() {
    let p = Container::new("nnp1", &Spec::new().no_new_privileges(true)).probe();
    assert!(p.no_new_privs());
}

#[test]
fn no_new_privileges_off() {
    let p = Container::new("nnp0", &Spec::new().no_new_privileges(false)).probe();
    assert!(!p.no_new_privs());
}

#[test]
fn rlimits_are_applied() {
    let spec = Spec::new()
        .rlimit("RLIMIT_NOFILE", 123, 456)
        .rlimit("RLIMIT_NPROC", 777, 888)
        .rlimit("RLIMIT_CORE", 0, 0);
    let p = Container::new("rlimits", &spec).probe();
    assert_eq!(p.limit("Max open files"), (123, 456));
    assert_eq!(p.limit("Max processes"), (777, 888));
    assert_eq!(p.limit("Max core file size"), (0, 0));
}

#[test]
fn unknown_rlimit_is_an_error() {
    let c = Container::new("rlimitbad", &Spec::new().rlimit("RLIMIT_BOGUS", 1, 1));
    c.create_with(&[]).fails();
    assert!(!c.state_dir().exists());
}

#[test]
fn hostname_is_set() {
    let p = Container::new("hostname", &Spec::new().hostname("itest-host")).probe();
    assert_eq!(p.get("hostname"), "itest-host");
}

#[test]
fn domainname_is_set() {
    let p = Container::new("domain", &Spec::new().domainname("itest.example")).probe();
    assert_eq!(p.get("domainname"), "itest.example");
}

#[test]
fn oom_score_adj_is_set() {
    let spec = Spec::new().set("/process/oomScoreAdj", serde_json::json!(123));
    let p = Container::new("oom", &spec).probe();
    assert_eq!(p.get("oom_score_adj"), "123");
}

#[test]
fn namespaced_sysctl_is_set() {
    let spec = Spec::new().set("/linux/sysctl", serde_json::json!({"net.ipv4.ip_forward": "1"}));
    let c = Container::new("sysctl", &spec.sh("cat /proc/sys/net/ipv4/ip_forward"));
    assert_eq!(c.run(&[]).ok().stdout.trim(), "1");
}

#[test]
fn non_namespaced_sysctl_is_refused() {
    let spec = Spec::new().set("/linux/sysctl", serde_json::json!({"vm.swappiness": "10"}));
    let c = Container::new("sysctlbad", &spec);
    c.create_with(&[]).fails();
    assert!(!c.state_dir().exists());
}

#[test]
fn env_is_exactly_the_specs() {
    let env = ["PATH=/bin", "FOO=bar baz", "EMPTY="];
    let p = Container::new("env", &Spec::new().env(&env)).probe();
    // like runc, HOME may be added from /etc/passwd when the spec has none
    let got: Vec<String> = p.environ().into_iter().filter(|kv| kv != "HOME=/root").collect();
    assert_eq!(got, env);
}

#[test]
fn home_comes_from_passwd_when_unset() {
    let p = Container::new("home", &Spec::new().user(USER_UID, USER_GID)).probe();
    assert_eq!(p.env("HOME").as_deref(), Some("/home/tester"));
}

#[test]
fn home_from_spec_wins() {
    let p = Container::new("home2", &Spec::new().add_env("HOME=/elsewhere")).probe();
    assert_eq!(p.env("HOME").as_deref(), Some("/elsewhere"));
}

#[test]
fn cwd_is_set() {
    let p = Container::new("cwd", &Spec::new().cwd("/home/tester")).probe();
    assert_eq!(p.cwd(), "/home/tester");
}

#[test]
fn missing_cwd_is_an_error() {
    let c = Container::new("cwdmissing", &Spec::new().cwd("/no/such/dir"));
    let out = c.run(&[]);
    assert_ne!(out.code(), Some(0), "{out}");
    assert!(!out.stdout.contains("probe_done"), "process ran: {out}");
}

#[test]
fn args_are_passed_exactly() {
    let c = Container::new("args", &Spec::new().args(&["/bin/echo", "a b", "", "c"]));
    assert_eq!(c.run(&[]).ok().stdout, "a b  c\n");
}

/// A relative args[0] is relative to process.cwd, as in runc: images say
/// `ENTRYPOINT ["./boot.sh"]` with a WORKDIR (found under podman).
#[test]
fn relative_args0_is_resolved_in_cwd() {
    let c = Container::new("relargs", &Spec::new().cwd("/bin").args(&["./echo", "relative-ok"]));
    assert_eq!(c.run(&[]).ok().stdout, "relative-ok\n");
}

/// The same for exec: `exec --cwd /bin CT ./echo`.
#[test]
fn exec_relative_args0_is_resolved_in_cwd() {
    let c = Container::new("execrel", &Spec::new().sh("exec sleep 1000"));
    c.create_start();
    let out = c.rt.run(&["exec", "--cwd", "/bin", &c.id, "./echo", "exec-relative-ok"]).ok();
    assert_eq!(out.stdout, "exec-relative-ok\n");
}

#[test]
fn only_stdio_fds_reach_the_container() {
    let c = Container::new("fds", &Spec::new());
    let mut cmd = c.run_cmd(&[]);
    let _files = integration_tests::leak_fds(&mut cmd, &[3, 4, 7]);
    let out = c.rt.spawn(cmd).wait().ok();
    let p = integration_tests::Probe::parse(&out.stdout);
    assert_eq!(p.fd_numbers(), [0, 1, 2], "{:?}", p.fds());
}

#[test]
fn preserve_fds_passes_extra_fds() {
    let c = Container::new("preserve", &Spec::new());
    let mut cmd = c.run_cmd(&["--preserve-fds", "2"]);
    let _files = integration_tests::leak_fds(&mut cmd, &[3, 4, 5]);
    let out = c.rt.spawn(cmd).wait().ok();
    let p = integration_tests::Probe::parse(&out.stdout);
    assert_eq!(p.fd_numbers(), [0, 1, 2, 3, 4], "{:?}", p.fds());
    assert!(p.fds()[3].1.ends_with("/preserved-3"), "{:?}", p.fds());
}

#[test]
fn listen_fds_are_passed_like_runc() {
    let c = Container::new("listenfds", &Spec::new());
    // sh puts its own pid in LISTEN_PID, then execs the runtime under that pid
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args(["-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$@\"", "sh"])
        .arg(c.rt.bin())
        .arg("--root")
        .arg(c.rt.root())
        .args(["run", "--bundle", c.bundle().to_str().unwrap(), &c.id])
        .stdin(Stdio::null());
    let _files = integration_tests::leak_fds(&mut cmd, &[3, 4]);
    let out = c.rt.spawn(cmd).wait().ok();
    let p = integration_tests::Probe::parse(&out.stdout);
    assert_eq!(p.fd_numbers(), [0, 1, 2, 3], "{:?}", p.fds());
    assert_eq!(p.env("LISTEN_FDS").as_deref(), Some("1"));
    assert_eq!(p.env("LISTEN_PID").as_deref(), Some("1"));
}

#[test]
fn stdio_of_create_reaches_the_container() {
    let c = Container::new("stdio", &Spec::new().sh("read line; echo \"got:$line\"; echo err >&2"));
    let mut cmd = c.create_cmd(&[]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    assert!(child.wait().unwrap().success(), "create failed");
    c.start().ok();
    stdin.write_all(b"hello\n").unwrap();
    drop(stdin);
    let mut got = String::new();
    stdout.read_to_string(&mut got).unwrap();
    assert_eq!(got, "got:hello\n");
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    assert_eq!(err, "err\n");
}

#[test]
fn readonly_root_is_readonly() {
    let p = Container::new("roroot", &Spec::new().readonly_root(true)).probe();
    assert_eq!(p.get("root_writable"), "0");
    assert!(p.mount_at("/").unwrap().has("ro"));
}

#[test]
fn writable_root_is_writable() {
    let p = Container::new("rwroot", &Spec::new().readonly_root(false)).probe();
    assert_eq!(p.get("root_writable"), "1");
}
