use super::*;
use crate::spec::{parse, Config};

fn cfg(extra: &str) -> Config {
    cfg_root(r#"{"path":"rootfs"}"#, extra)
}

fn cfg_root(root: &str, extra: &str) -> Config {
    let json = format!(
        r#"{{"ociVersion":"1.2.0","root":{root},
            "process":{{"user":{{"uid":0,"gid":0}},"cwd":"/","args":["sh"]}}{extra}}}"#
    );
    let spec = parse(json.as_bytes()).expect("spec parses");
    Config::from_spec(spec, PathBuf::from("/bundle")).expect("spec validates")
}

fn mounts(p: &Plan) -> Vec<&MountEntry> {
    p.ops.iter().filter_map(|o| if let MountOp::Mount(m) = o { Some(m) } else { None }).collect()
}

fn devices(p: &Plan) -> Vec<&DeviceNode> {
    p.ops.iter().filter_map(|o| if let MountOp::Device(d) = o { Some(d) } else { None }).collect()
}

const RUNC_MOUNTS: &str = r#","mounts":[
    {"destination":"/proc","type":"proc","source":"proc"},
    {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
    {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
    {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
    {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
    {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
    {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]},
    {"destination":"/etc/hosts","type":"bind","source":"hosts","options":["rbind","ro","rprivate"]}
]"#;

#[test]
fn runc_spec_mounts_in_order() {
    let p = plan(&cfg(RUNC_MOUNTS)).unwrap();
    let m = mounts(&p);
    let dests: Vec<_> = m.iter().map(|m| m.dest.to_str().unwrap()).collect();
    assert_eq!(dests, ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/etc/hosts"]);
    assert_eq!(m[0].kind, MountKind::Fs { fstype: "proc".into(), source: Some("proc".into()) });
    assert_eq!(m[1].opts.attrs.set, attr::NOSUID | attr::STRICTATIME);
    assert_eq!(m[6].kind, MountKind::Cgroup { source: Some("cgroup".into()) });
    // sysfs ro is applied at mount time, not deferred.
    assert_ne!(m[5].opts.attrs.set & attr::RDONLY, 0);
    // A relative bind source is taken from the bundle.
    assert_eq!(m[7].kind, MountKind::Bind { source: "/bundle/hosts".into() });
    assert!(m[7].opts.recursive_bind);
    assert_eq!(p.root_propagation, Propagation { kind: PropagationKind::Slave, recursive: true });
}

#[test]
fn default_devices_and_links() {
    let p = plan(&cfg(RUNC_MOUNTS)).unwrap();
    let d = devices(&p);
    let paths: Vec<_> = d.iter().map(|d| d.path.to_str().unwrap()).collect();
    assert_eq!(paths, ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]);
    assert!(d.iter().all(|d| d.mode == 0o666 && !d.bind_from_host && d.kind == NodeKind::Char));
    assert_eq!((d[0].major, d[0].minor), (1, 3));
    assert!(p.ops.contains(&MountOp::Ptmx));
    assert!(p.ops.contains(&MountOp::Symlink {
        link: "/dev/stderr".into(),
        target: "/proc/self/fd/2".into(),
        if_host_has: None
    }));
    assert!(p.ops.iter().any(|o| matches!(o, MountOp::Symlink { if_host_has: Some("/proc/kcore"), .. })));
}

#[test]
fn config_device_overrides_default_and_userns_binds() {
    let extra = r#","linux":{"namespaces":[{"type":"mount"},{"type":"user"}],
        "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
        "devices":[{"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":420,"uid":7,"gid":8},
                   {"path":"/dev/fuse","type":"c","major":10,"minor":229},
                   {"path":"/dev/sda","type":"b","major":8,"minor":0}]}"#;
    let p = plan(&cfg(extra)).unwrap();
    let d = devices(&p);
    assert_eq!(d.iter().filter(|d| d.path == Path::new("/dev/null")).count(), 1);
    let null = d.iter().find(|d| d.path == Path::new("/dev/null")).unwrap();
    assert_eq!((null.mode, null.uid, null.gid), (0o644, 7, 8));
    assert!(d.iter().all(|d| d.bind_from_host));
    assert_eq!(d.iter().find(|d| d.path == Path::new("/dev/sda")).unwrap().kind, NodeKind::Block);
}

#[test]
fn host_dev_bind_skips_device_setup() {
    let extra = r#","mounts":[{"destination":"/dev","type":"bind","source":"/dev","options":["rbind"]}]"#;
    let p = plan(&cfg(extra)).unwrap();
    assert!(devices(&p).is_empty());
    assert!(!p.ops.contains(&MountOp::Ptmx));
}

#[test]
fn readonly_tmpfs_and_dev_are_deferred() {
    let extra = r#","mounts":[
        {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["ro","mode=755"]},
        {"destination":"/run","type":"tmpfs","options":["ro"]},
        {"destination":"/sys","type":"sysfs","options":["ro"]}]"#;
    let p = plan(&cfg_root(r#"{"path":"rootfs","readonly":true}"#, extra)).unwrap();
    let m = mounts(&p);
    assert_eq!(m[0].opts.attrs.set & attr::RDONLY, 0);
    assert_eq!(m[1].opts.attrs.set & attr::RDONLY, 0);
    assert_ne!(m[2].opts.attrs.set & attr::RDONLY, 0);
    assert_eq!(
        p.final_ops,
        vec![FinalOp::RemountRo("/dev".into()), FinalOp::RemountRo("/run".into()), FinalOp::ReadonlyRoot]
    );
}

#[test]
fn final_ops_order_follows_runc() {
    let extra = r#","linux":{"rootfsPropagation":"rshared",
        "readonlyPaths":["/proc/sys","/proc/../proc/bus"],"maskedPaths":["/proc/kcore","/sys/firmware"]}"#;
    let mut c = cfg(extra);
    if let Some(p) = c.spec.process_mut() {
        p.set_cwd("/work/./dir".into());
    }
    let p = plan(&c).unwrap();
    let shared = Propagation { kind: PropagationKind::Shared, recursive: true };
    assert_eq!(p.root_propagation, shared);
    assert_eq!(
        p.final_ops,
        vec![
            FinalOp::RootPropagation(shared),
            FinalOp::ReadonlyPath("/proc/sys".into()),
            FinalOp::ReadonlyPath("/proc/bus".into()),
            FinalOp::MaskPath("/proc/kcore".into()),
            FinalOp::MaskPath("/sys/firmware".into()),
        ]
    );
}

#[test]
fn destinations_are_cleaned_lexically() {
    let extra = r#","mounts":[{"destination":"/a/../../etc//./x","type":"tmpfs"}]"#;
    let p = plan(&cfg(extra)).unwrap();
    assert_eq!(mounts(&p)[0].dest, Path::new("/etc/x"));
    assert_eq!(clean(Path::new("/../..")), Path::new("/"));
}

#[test]
fn refuses_what_it_cannot_do() {
    let cases = [
        (r#","mounts":[{"destination":"/","type":"tmpfs"}]"#, "mounts[0].destination"),
        (r#","mounts":[{"destination":"/x","type":"bind"}]"#, "mounts[0].source"),
        (r#","mounts":[{"destination":"/x"}]"#, "mounts[0].type"),
        (r#","mounts":[{"destination":"/x","type":"proc","options":["tmpcopyup"]}]"#, "mounts[0].options"),
        (r#","mounts":[{"destination":"/x","type":"tmpfs","options":["ridmap"]}]"#, "mounts[0].options"),
        (r#","linux":{"rootfsPropagation":"sideways"}"#, "linux.rootfsPropagation"),
        (r#","linux":{"maskedPaths":["proc/kcore"]}"#, "linux.maskedPaths"),
        (r#","linux":{"devices":[{"path":"/dev/x","type":"c","major":-1,"minor":0}]}"#, "linux.devices[0].major"),
        (r#","linux":{"devices":[{"path":"/dev/x","type":"a","major":1,"minor":0}]}"#, "linux.devices[0].type"),
    ];
    for (extra, field) in cases {
        let e = plan(&cfg(extra)).unwrap_err().to_string();
        assert!(e.contains(field), "{extra}: {e}");
    }
}
