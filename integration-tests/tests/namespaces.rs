//! linux.namespaces: new ones, joined ones, user namespaces with id maps.

use integration_tests::host::{own_ns, NetNs};
use integration_tests::{Container, Spec};
use std::process::{Command, Stdio};

#[test]
fn default_namespaces_are_new() {
    let p = Container::new("nsnew", &Spec::new()).probe();
    for (probe, host) in [("pid", "pid"), ("net", "net"), ("ipc", "ipc"), ("uts", "uts"), ("mnt", "mnt")] {
        assert_ne!(p.ns(probe), own_ns(host), "{probe} namespace is the host's");
    }
}

#[test]
fn namespaces_not_in_spec_are_shared_with_the_host() {
    let spec = Spec::new().remove_namespace("network").remove_namespace("ipc").remove_namespace("uts");
    let p = Container::new("nsshared", &spec.remove("/hostname")).probe();
    assert_eq!(p.ns("net"), own_ns("net"));
    assert_eq!(p.ns("ipc"), own_ns("ipc"));
    assert_eq!(p.ns("uts"), own_ns("uts"));
    assert_ne!(p.ns("pid"), own_ns("pid"));
}

#[test]
fn joins_network_namespace_by_path() {
    let ns = NetNs::new();
    let p = Container::new("netjoin", &Spec::new().namespace("network", Some(&ns.path()))).probe();
    assert_eq!(p.ns("net"), ns.link());
}

/// A `sleep` in new namespaces, killed on drop (a process this test started).
struct Holder(std::process::Child);

impl Holder {
    fn new(flags: &[&str]) -> Holder {
        let child = Command::new("unshare")
            .args(flags)
            .args(["sleep", "1000"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        // wait until unshare has exec'd sleep (same pid, new namespaces)
        let pid = child.id();
        let t0 = std::time::Instant::now();
        while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim() != "sleep" {
            assert!(t0.elapsed().as_secs() < 30, "unshare did not exec sleep");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Holder(child)
    }

    fn ns_path(&self, kind: &str) -> String {
        format!("/proc/{}/ns/{kind}", self.0.id())
    }

    fn ns_link(&self, kind: &str) -> String {
        std::fs::read_link(self.ns_path(kind)).unwrap().to_string_lossy().into_owned()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn joins_namespaces_of_another_process_by_proc_path() {
    let h = Holder::new(&["--net", "--ipc", "--uts"]);
    let spec = Spec::new()
        .namespace("network", Some(&h.ns_path("net")))
        .namespace("ipc", Some(&h.ns_path("ipc")))
        .namespace("uts", Some(&h.ns_path("uts")))
        .remove("/hostname");
    let p = Container::new("joinproc", &spec).probe();
    assert_eq!(p.ns("net"), h.ns_link("net"));
    assert_eq!(p.ns("ipc"), h.ns_link("ipc"));
    assert_eq!(p.ns("uts"), h.ns_link("uts"));
}

#[test]
fn namespace_path_of_the_wrong_type_fails() {
    let h = Holder::new(&["--uts"]);
    let c = Container::new("nswrong", &Spec::new().namespace("network", Some(&h.ns_path("uts"))));
    let out = c.create_with(&[]).fails();
    assert!(!out.stderr.trim().is_empty());
    c.assert_nothing_left(None);
}

#[test]
fn namespace_path_that_is_not_a_namespace_fails() {
    let c = Container::new("nsfile", &Spec::new());
    let file = c.path("not-a-namespace");
    std::fs::write(&file, "").unwrap();
    c.write_spec(&Spec::new().namespace("network", Some(file.to_str().unwrap())));
    c.create_with(&[]).fails();
    c.assert_nothing_left(None);
}

#[test]
fn namespace_path_that_does_not_exist_fails() {
    let c = Container::new("nsmissing", &Spec::new().namespace("network", Some("/run/netns/brig-it-no-such-ns")));
    c.create_with(&[]).fails();
    c.assert_nothing_left(None);
}

#[test]
fn user_namespace_maps_ids() {
    let p = Container::new("userns", &Spec::new().userns(100000, 65536)).probe();
    assert_ne!(p.ns("user"), own_ns("user"));
    assert_eq!(p.uids(), [0, 0, 0, 0]);
    let uid_map: Vec<&str> = p.section("uid_map").split_whitespace().collect();
    assert_eq!(uid_map, ["0", "100000", "65536"]);
    let gid_map: Vec<&str> = p.section("gid_map").split_whitespace().collect();
    assert_eq!(gid_map, ["0", "100000", "65536"]);
}

#[test]
fn user_namespace_process_runs_as_mapped_host_uid() {
    let c = Container::new("usernshost", &Spec::new().userns(200000, 65536).user(1000, 1000).sh("echo ready; exec sleep 1000"));
    c.create_start();
    c.wait_stdout("ready");
    let status = std::fs::read_to_string(format!("/proc/{}/status", c.pid())).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(uid.split_whitespace().nth(1), Some("201000"), "{uid}");
}

#[test]
fn cgroup_namespace_hides_the_host_path() {
    let p = Container::new("cgroupns", &Spec::new().namespace("cgroup", None)).probe();
    assert_ne!(p.ns("cgroup"), own_ns("cgroup"));
    let line = p.section("cgroup").lines().find(|l| l.starts_with("0::")).unwrap().to_string();
    assert_eq!(line, "0::/");
}

#[test]
fn time_namespace_applies_offsets() {
    let spec = Spec::new()
        .namespace("time", None)
        .set("/linux/timeOffsets", serde_json::json!({"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 172800, "nanosecs": 0}}));
    let p = Container::new("timens", &spec).probe();
    assert_ne!(p.ns("time"), own_ns("time"));
    let offsets = p.section("timens_offsets");
    assert!(offsets.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["monotonic", "86400", "0"]), "{offsets}");
    assert!(offsets.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["boottime", "172800", "0"]), "{offsets}");
}

#[test]
fn uts_namespace_hostname_does_not_touch_the_host() {
    let before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let p = Container::new("utshost", &Spec::new().hostname("itest-uts")).probe();
    assert_eq!(p.get("hostname"), "itest-uts");
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(), before);
}

#[test]
fn pid_namespace_shows_only_the_containers_processes() {
    let c = Container::new("pidns", &Spec::new().sh("ls /proc | grep -E '^[0-9]+$' | wc -l"));
    // sh, ls, grep, wc: never the host's hundreds
    let n: u32 = c.run(&[]).ok().stdout.trim().parse().unwrap();
    assert!(n <= 5, "{n} pids visible");
}
