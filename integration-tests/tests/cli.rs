//! The command line: list, spec, features, --version, global flags, ids, config.json
//! validation and errors.

use integration_tests::{Container, Runtime, Spec, TempDir};
use serde_json::{json, Value};

fn sleeper() -> Spec {
    Spec::new().sh("echo ready; exec sleep 1000")
}

#[test]
fn version_names_the_spec() {
    let out = Runtime::new().run_bare(&["--version"]).ok();
    assert!(out.stdout.lines().next().unwrap().contains("version"), "{out}");
    assert!(out.stdout.lines().any(|l| l.starts_with("spec: 1.")), "{out}");
}

#[test]
fn list_shows_a_table() {
    let rt = Runtime::new();
    let a = rt.container("lista", &sleeper());
    let b = rt.container("listb", &sleeper());
    a.create();
    b.create_start();
    let out = rt.run(&["list"]).ok().stdout;
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 2, "{out}");
    let row = |id: &str| rows.iter().find(|r| r[0] == id).unwrap_or_else(|| panic!("{id} not listed: {out}")).clone();
    assert_eq!(row(&a.id)[1], a.pid().to_string());
    assert_eq!(row(&a.id)[2], "created");
    assert_eq!(row(&b.id)[2], "running");
    assert_eq!(row(&b.id)[3], b.bundle().to_str().unwrap());
    assert_eq!(row(&b.id)[5], "root");
}

#[test]
fn list_format_json() {
    let rt = Runtime::new();
    let a = rt.container("listjson", &sleeper());
    a.create();
    let out = rt.run(&["list", "--format", "json"]).ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0]["id"], a.id.as_str());
    assert_eq!(arr[0]["status"], "created");
    assert_eq!(arr[0]["pid"], a.pid());
    assert_eq!(arr[0]["bundle"], a.bundle().to_str().unwrap());
    assert_eq!(arr[0]["rootfs"], a.rootfs().to_str().unwrap());
    assert!(arr[0]["created"].is_string());
    assert_eq!(arr[0]["owner"], "root");
}

#[test]
fn list_quiet_prints_ids() {
    let rt = Runtime::new();
    let a = rt.container("listq1", &sleeper());
    let b = rt.container("listq2", &sleeper());
    a.create();
    b.create();
    let out = rt.run(&["list", "-q"]).ok().stdout;
    let mut ids: Vec<&str> = out.lines().collect();
    ids.sort();
    let mut want = vec![a.id.as_str(), b.id.as_str()];
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn list_of_empty_root() {
    let rt = Runtime::new();
    let out = rt.run(&["list", "-q"]).ok();
    assert_eq!(out.stdout, "");
    let json = rt.run(&["list", "--format", "json"]).ok();
    let v: Value = serde_json::from_str(json.stdout.trim()).unwrap_or(Value::Null);
    assert!(v.as_array().is_some_and(|a| a.is_empty()) || v.is_null(), "{json}");
}

/// `spec [extra] --bundle DIR` in a new dir; the config.json it wrote.
fn spec_output(rt: &Runtime, extra: &[&str]) -> Value {
    let dir = TempDir::new("spec");
    let mut args = vec!["spec"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--bundle", dir.path().to_str().unwrap()]);
    rt.run(&args).ok();
    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
}

#[test]
fn spec_writes_a_default_config() {
    let v = spec_output(&Runtime::new(), &[]);
    assert!(v["ociVersion"].as_str().unwrap().starts_with("1."));
    assert_eq!(v["root"]["path"], "rootfs");
    assert_eq!(v["process"]["args"], json!(["sh"]));
    assert_eq!(v["process"]["terminal"], true);
    let ns: Vec<&str> = v["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    for want in ["pid", "network", "ipc", "uts", "mount"] {
        assert!(ns.contains(&want), "{want} missing: {ns:?}");
    }
}

#[test]
fn spec_output_runs() {
    let rt = Runtime::new();
    let mut v = spec_output(&rt, &[]);
    v["process"]["terminal"] = json!(false);
    v["process"]["args"] = json!(["/bin/sh", "-c", "echo from-spec"]);
    let c = rt.container("specrun", &Spec(v));
    assert_eq!(c.run(&[]).ok().stdout, "from-spec\n");
}

#[test]
fn spec_rootless_maps_the_user() {
    let v = spec_output(&Runtime::new(), &["--rootless"]);
    assert!(v["linux"]["uidMappings"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
    let ns: Vec<&str> = v["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert!(ns.contains(&"user"));
}

#[test]
fn features_is_json() {
    let out = Runtime::new().run_bare(&["features"]).ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert!(v["ociVersionMin"].as_str().unwrap().starts_with("1.0"));
    assert!(v["ociVersionMax"].as_str().unwrap().starts_with("1."));
    let hooks: Vec<&str> = v["hooks"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    for h in ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] {
        assert!(hooks.contains(&h), "{h} missing: {hooks:?}");
    }
    let ns: Vec<&str> = v["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    for n in ["pid", "network", "ipc", "uts", "mount", "user", "cgroup"] {
        assert!(ns.contains(&n), "{n} missing: {ns:?}");
    }
    assert!(v["mountOptions"].as_array().is_some_and(|a| a.iter().any(|o| o == "rbind")));
}

fn bad_id(id: &str) {
    let c = Container::new("badid", &Spec::new());
    let b = c.bundle().to_str().unwrap().to_string();
    let out = c.rt.run(&["create", "--bundle", &b, id]).fails_with_one_line();
    assert!(c.rt.state_entries().is_empty(), "state written for {id:?}: {:?} {out}", c.rt.state_entries());
    c.rt.run(&["run", "--bundle", &b, id]).fails();
    assert!(c.rt.state_entries().is_empty());
}

#[test]
fn id_with_dotdot_is_refused() {
    bad_id("../x");
}

#[test]
fn id_with_slash_is_refused() {
    bad_id("a/b");
}

#[test]
fn empty_id_is_refused() {
    bad_id("");
}

#[test]
fn bad_id_is_refused_by_every_command() {
    let rt = Runtime::new();
    for cmd in ["start", "state", "kill", "delete"] {
        rt.run(&[cmd, "../x"]).fails();
    }
}

#[test]
fn bad_config_error_names_the_json_path() {
    let c = Container::new("badpath", &Spec::new().set("/process/user/uid", json!("zero")));
    let out = c.create_with(&[]).fails_with_one_line();
    assert!(out.stderr.contains("process.user.uid"), "error does not name process.user.uid: {out}");
}

#[test]
fn bad_config_error_names_a_nested_array_path() {
    let spec = Spec::new().set("/mounts", json!([{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": 5}]));
    let out = Container::new("badpath2", &spec).create_with(&[]).fails_with_one_line();
    assert!(out.stderr.contains("mounts[1].destination") || out.stderr.contains("mounts.1.destination"), "{out}");
}

#[test]
fn unsupported_oci_version_is_refused() {
    for v in ["2.0.0", "0.6.0"] {
        let c = Container::new("ocibad", &Spec::new().oci_version(v));
        let out = c.create_with(&[]).fails_with_one_line();
        assert!(out.stderr.contains(v), "error should name the version {v}: {out}");
        assert!(!c.state_dir().exists());
    }
}

#[test]
fn oci_versions_1_0_to_1_3_are_accepted() {
    for v in ["1.0.0", "1.0.1", "1.0.2", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1", "1.3.0"] {
        let c = Container::new("ociok", &Spec::new().oci_version(v).args(&["/bin/true"]));
        let out = c.run(&[]);
        assert!(out.status.success(), "ociVersion {v} refused: {out}");
    }
}

#[test]
fn unknown_fields_are_ignored() {
    let spec = Spec::new()
        .set("/someFutureField", json!({"x": 1}))
        .set("/process/futureKnob", json!(true))
        .set("/linux/futureThing", json!([1, 2]))
        .set("/annotations", json!({"io.example/anything": "goes"}))
        .args(&["/bin/true"]);
    Container::new("unknownfields", &spec).run(&[]).ok();
}

#[test]
fn create_without_bundle_uses_the_cwd() {
    let c = Container::new("cwdbundle", &Spec::new().args(&["/bin/true"]));
    let mut cmd = c.rt.cmd(&["create", &c.id]);
    cmd.current_dir(c.bundle());
    c.rt.spawn(cmd).wait().ok();
    assert_eq!(c.state()["bundle"], c.bundle().to_str().unwrap());
}

#[test]
fn log_format_json_writes_errors_to_the_log() {
    let c = Container::new("logjson", &Spec::new().set("/process/user/uid", json!("zero")));
    let log = c.path("runtime.log");
    let b = c.bundle().to_str().unwrap();
    let out = c.rt.run(&["--log", log.to_str().unwrap(), "--log-format", "json", "create", "--bundle", b, &c.id]).fails();
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("no log file ({e}): {out}"));
    let errors: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("log line not JSON ({e}): {l}")))
        .filter(|v| v["level"] == "error")
        .collect();
    assert!(!errors.is_empty(), "no error line in {text}");
    assert!(errors[0]["msg"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(errors[0]["time"].is_string());
}

#[test]
fn log_format_with_equals_is_accepted() {
    let rt = Runtime::new();
    let log = rt.root().with_extension("log");
    rt.run(&["--log", log.to_str().unwrap(), "--log-format=json", "list"]).ok();
    let _ = std::fs::remove_file(log);
}

#[test]
fn global_flags_are_accepted() {
    let rt = Runtime::new();
    rt.run(&["--debug", "list"]).ok();
    rt.run(&["--systemd-cgroup", "list"]).ok();
    rt.run(&["--rootless", "false", "list"]).ok();
}

#[test]
fn unknown_subcommand_fails() {
    Runtime::new().run(&["no-such-command"]).fails();
}
