use super::*;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn writes(json: &str) -> Vec<(String, String)> {
    plan(&res(json)).unwrap().writes.into_iter().map(|w| (w.file, w.value)).collect()
}

fn w(f: &str, v: &str) -> (String, String) {
    (f.to_string(), v.to_string())
}

#[test]
fn empty_and_zero_mean_unchanged() {
    assert!(plan(&res("{}")).unwrap().is_empty());
    let zeros = r#"{"memory":{"limit":0,"swap":0,"reservation":0},"cpu":{"shares":0,"quota":0,"period":0,"cpus":"","mems":""},
        "pids":{"limit":0},"blockIO":{"weight":0}}"#;
    assert!(plan(&res(zeros)).unwrap().is_empty());
}

#[test]
fn memory_limit_and_reservation() {
    assert_eq!(writes(r#"{"memory":{"limit":33554432}}"#), vec![w("memory.max", "33554432")]);
    assert_eq!(writes(r#"{"memory":{"reservation":1048576}}"#), vec![w("memory.low", "1048576")]);
    // -1 alone: memory and swap both unlimited (runc's v1 compatibility).
    assert_eq!(writes(r#"{"memory":{"limit":-1}}"#), vec![w("memory.swap.max", "max"), w("memory.max", "max")]);
}

#[test]
fn memory_swap_is_total_minus_memory() {
    assert_eq!(
        writes(r#"{"memory":{"limit":100,"swap":300}}"#),
        vec![w("memory.swap.max", "200"), w("memory.max", "100")]
    );
    // equal: swap disabled
    assert_eq!(writes(r#"{"memory":{"limit":100,"swap":100}}"#), vec![w("memory.swap.max", "0"), w("memory.max", "100")]);
    assert_eq!(writes(r#"{"memory":{"limit":100,"swap":-1}}"#), vec![w("memory.swap.max", "max"), w("memory.max", "100")]);
    assert!(plan(&res(r#"{"memory":{"limit":300,"swap":100}}"#)).is_err());
    assert!(plan(&res(r#"{"memory":{"swap":100}}"#)).is_err());
    assert!(plan(&res(r#"{"memory":{"limit":-1,"swap":100}}"#)).is_err());
    assert!(plan(&res(r#"{"memory":{"limit":-7}}"#)).is_err());
}

#[test]
fn memory_swap_optional_only_for_max_and_zero() {
    let p = plan(&res(r#"{"memory":{"limit":100,"swap":100}}"#)).unwrap();
    assert_eq!(p.writes[0].kind, WriteKind::Optional);
    let p = plan(&res(r#"{"memory":{"limit":100,"swap":300}}"#)).unwrap();
    assert_eq!(p.writes[0].kind, WriteKind::Required);
}

#[test]
fn memory_warnings_and_check() {
    let p = plan(&res(r#"{"memory":{"limit":100,"kernel":5,"disableOOMKiller":true,"checkBeforeUpdate":true}}"#)).unwrap();
    assert_eq!(p.warnings.len(), 2);
    assert_eq!(p.check_memory_usage, Some(100));
}

#[test]
fn cpu_shares_conversion() {
    assert_eq!(convert_cpu_shares(0), 0);
    assert_eq!(convert_cpu_shares(2), 1);
    assert_eq!(convert_cpu_shares(1024), 39);
    assert_eq!(convert_cpu_shares(512), 20);
    assert_eq!(convert_cpu_shares(262_144), 10_000);
    // clamped, never wrapping
    assert_eq!(convert_cpu_shares(1), 1);
    assert_eq!(convert_cpu_shares(u64::MAX), 10_000);
    assert_eq!(writes(r#"{"cpu":{"shares":1024}}"#), vec![w("cpu.weight", "39")]);
}

#[test]
fn cpu_max_follows_runc() {
    assert_eq!(writes(r#"{"cpu":{"quota":50000,"period":100000}}"#), vec![w("cpu.max", "50000 100000")]);
    assert_eq!(writes(r#"{"cpu":{"quota":50000}}"#), vec![w("cpu.max", "50000")]);
    assert_eq!(writes(r#"{"cpu":{"period":100000}}"#), vec![w("cpu.max", "max 100000")]);
    assert_eq!(writes(r#"{"cpu":{"quota":-1}}"#), vec![w("cpu.max", "max")]);
}

#[test]
fn cpu_burst_idle_cpuset() {
    let p = plan(&res(r#"{"cpu":{"quota":50000,"burst":1000,"idle":1,"cpus":"0-1","mems":"0"}}"#)).unwrap();
    let got: Vec<_> = p.writes.iter().map(|w| (w.file.as_str(), w.value.as_str())).collect();
    assert_eq!(
        got,
        vec![("cpu.idle", "1"), ("cpu.max.burst", "1000"), ("cpu.max", "50000"), ("cpuset.cpus", "0-1"), ("cpuset.mems", "0")]
    );
    assert_eq!(p.writes[1].kind, WriteKind::RetryAfterNext);
    let p = plan(&res(r#"{"cpu":{"burst":1000}}"#)).unwrap();
    assert_eq!(p.writes[0].kind, WriteKind::Required);
    assert!(plan(&res(r#"{"cpu":{"cpus":"0\n1"}}"#)).is_err());
}

#[test]
fn cpu_realtime_is_an_error() {
    let e = plan(&res(r#"{"cpu":{"realtimeRuntime":950000}}"#)).unwrap_err().to_string();
    assert!(e.contains("realtime"), "{e}");
    assert!(plan(&res(r#"{"cpu":{"realtimeRuntime":0,"realtimePeriod":0}}"#)).unwrap().is_empty());
}

#[test]
fn pids() {
    assert_eq!(writes(r#"{"pids":{"limit":10}}"#), vec![w("pids.max", "10")]);
    assert_eq!(writes(r#"{"pids":{"limit":-1}}"#), vec![w("pids.max", "max")]);
}

#[test]
fn blkio_weight_conversion() {
    assert_eq!(convert_blkio_weight(0), 0);
    assert_eq!(convert_blkio_weight(10), 1);
    assert_eq!(convert_blkio_weight(500), 4950);
    assert_eq!(convert_blkio_weight(1000), 10_000);
    let p = plan(&res(r#"{"blockIO":{"weight":500}}"#)).unwrap();
    assert_eq!(p.writes[0].file, "io.bfq.weight");
    assert_eq!(p.writes[0].value, "500");
    assert_eq!(p.writes[0].kind, WriteKind::Fallback { file: "io.weight".into(), value: "4950".into() });
    assert!(plan(&res(r#"{"blockIO":{"weight":5}}"#)).is_err());
}

#[test]
fn blkio_devices() {
    let p = plan(&res(
        r#"{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":300}],
            "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],
            "throttleWriteBpsDevice":[{"major":8,"minor":0,"rate":2097152}],
            "throttleReadIOPSDevice":[{"major":8,"minor":16,"rate":100}],
            "throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":200}]}}"#,
    ))
    .unwrap();
    let got: Vec<_> = p.writes.iter().map(|w| (w.file.as_str(), w.value.as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("io.bfq.weight", "8:0 300"),
            ("io.max", "8:0 rbps=1048576"),
            ("io.max", "8:0 wbps=2097152"),
            ("io.max", "8:16 riops=100"),
            ("io.max", "8:16 wiops=200"),
        ]
    );
    assert_eq!(p.writes[0].kind, WriteKind::Fallback { file: "io.weight".into(), value: "8:0 2930".into() });
    assert!(plan(&res(r#"{"blockIO":{"throttleReadBpsDevice":[{"major":-8,"minor":0,"rate":1}]}}"#)).is_err());
}

#[test]
fn hugetlb() {
    let p = plan(&res(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#)).unwrap();
    assert_eq!(p.writes[0], Write::req("hugetlb.2MB.max", "4194304"));
    assert_eq!(p.writes[1], Write::opt("hugetlb.2MB.rsvd.max", "4194304"));
    for bad in ["2mb", "../x", "MB", "2MB/../x", "2 MB", ""] {
        let json = format!(r#"{{"hugepageLimits":[{{"pageSize":{bad:?},"limit":1}}]}}"#);
        assert!(plan(&res(&json)).is_err(), "{bad}");
    }
}

#[test]
fn rdma() {
    assert_eq!(
        writes(r#"{"rdma":{"mlx5_1":{"hcaHandles":3},"mlx4_0":{"hcaHandles":2,"hcaObjects":100}}}"#),
        vec![w("rdma.max", "mlx4_0 hca_handle=2 hca_object=100"), w("rdma.max", "mlx5_1 hca_handle=3")]
    );
    assert!(writes(r#"{"rdma":{"mlx4_0":{}}}"#).is_empty());
    assert!(plan(&res(r#"{"rdma":{"a b":{"hcaHandles":1}}}"#)).is_err());
}

#[test]
fn network_is_an_error() {
    assert!(plan(&res(r#"{"network":{"classID":1048577}}"#)).is_err());
    assert!(plan(&res(r#"{"network":{"priorities":[{"name":"eth0","priority":1}]}}"#)).is_err());
    assert!(plan(&res(r#"{"network":{}}"#)).unwrap().is_empty());
}

#[test]
fn unified_keys() {
    assert_eq!(
        writes(r#"{"unified":{"memory.high":"1000000","io.max":"8:0 rbps=1\n8:16 wbps=2\n"}}"#),
        vec![w("io.max", "8:0 rbps=1"), w("io.max", "8:16 wbps=2"), w("memory.high", "1000000")]
    );
    for bad in ["../memory.max", "memory/max", "..", "memory", "memory.", ".max", "", "a..b"] {
        let json = format!(r#"{{"unified":{{{bad:?}:"1"}}}}"#);
        assert!(plan(&res(&json)).is_err(), "{bad}");
    }
    // unified comes last, so it wins over the typed fields
    let p = writes(r#"{"pids":{"limit":5},"unified":{"pids.max":"7"}}"#);
    assert_eq!(p, vec![w("pids.max", "5"), w("pids.max", "7")]);
}

#[test]
fn controllers_needed() {
    let p = plan(&res(r#"{"memory":{"limit":1},"pids":{"limit":1},"unified":{"cgroup.max.depth":"3"}}"#)).unwrap();
    assert_eq!(p.controllers().into_iter().collect::<Vec<_>>(), vec!["memory", "pids"]);
}

#[test]
fn plan_order_matches_runc() {
    let p = writes(r#"{"cpu":{"shares":1024},"memory":{"limit":100},"pids":{"limit":3},"blockIO":{"weight":100}}"#);
    let files: Vec<_> = p.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(files, vec!["pids.max", "memory.max", "io.bfq.weight", "cpu.weight"]);
}

#[test]
fn extreme_values_never_panic() {
    let ints = [i64::MIN, i64::MIN + 1, -2, -1, 0, 1, 2, i64::MAX - 1, i64::MAX];
    let uints = [0u64, 1, 2, 262_144, 262_145, u64::MAX];
    for &a in &ints {
        for &b in &ints {
            let mem = format!(r#"{{"memory":{{"limit":{a},"swap":{b},"reservation":{a}}},"pids":{{"limit":{b}}},
                "cpu":{{"quota":{a},"idle":{b},"realtimeRuntime":0}},"hugepageLimits":[{{"pageSize":"2MB","limit":{a}}}],
                "blockIO":{{"throttleReadBpsDevice":[{{"major":{a},"minor":{b},"rate":1}}],"weightDevice":[{{"major":{b},"minor":{a},"weight":10}}]}}}}"#);
            let _ = plan(&res(&mem));
        }
    }
    for &u in &uints {
        let cpu = format!(r#"{{"cpu":{{"shares":{u},"period":{u},"burst":{u}}},"blockIO":{{"weight":{}}}}}"#, u % 65_536);
        let _ = plan(&res(&cpu));
    }
}
