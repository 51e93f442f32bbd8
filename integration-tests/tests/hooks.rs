//! Hooks: each stage at its time, with the state JSON on stdin, args, env, timeout;
//! failures that fail the operation and clean up, failures that only warn.

use integration_tests::host::cgroup_dir_for;
use integration_tests::{sh_hook, Container, Spec, TempDir};
use serde_json::{json, Value};

/// A host dir bind-mounted at /hookout, for hooks that run inside the container.
struct Out {
    dir: TempDir,
}

impl Out {
    fn new() -> Out {
        Out { dir: TempDir::new("hookout") }
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    fn state(&self, name: &str) -> Value {
        let text = self.read(name);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {text:?}"))
    }

    fn spec(&self) -> Spec {
        Spec::new().bind(self.dir.path(), "/hookout", &[])
    }
}

/// A hook for `stage` that saves its stdin as `STAGE.json` in `out` (through
/// /hookout for startContainer, whose path resolves inside the container).
fn saving_hook(out: &Out, stage: &str) -> Value {
    let target = if stage == "startContainer" { format!("/hookout/{stage}.json") } else { out.file(&format!("{stage}.json")) };
    sh_hook(&format!("cat > {target}"))
}

fn check_stage(stage: &str, want_status: &str) {
    let out = Out::new();
    let spec = out.spec().hook(stage, saving_hook(&out, stage)).args(&["/bin/true"]);
    let c = Container::new(&format!("hook-{stage}"), &spec);
    c.create();
    let pid = c.pid();
    c.start().ok();
    c.wait_status("stopped");
    c.delete(false).ok();
    let st = out.state(&format!("{stage}.json"));
    assert_eq!(st["id"], c.id.as_str(), "{st}");
    assert_eq!(st["status"], want_status, "{stage}: {st}");
    assert_eq!(st["bundle"], c.bundle().to_str().unwrap(), "{st}");
    assert!(st["ociVersion"].is_string(), "{st}");
    match stage {
        "poststop" => {}
        // these run inside the container, where runc reports the pid as seen there
        "createContainer" | "startContainer" => {
            assert!(st["pid"] == pid || st["pid"] == 1, "{stage}: {st}, host pid {pid}")
        }
        _ => assert_eq!(st["pid"], pid, "{stage}: {st}"),
    }
}

#[test]
fn prestart_hook_gets_state() {
    check_stage("prestart", "creating");
}

#[test]
fn create_runtime_hook_gets_state() {
    check_stage("createRuntime", "creating");
}

#[test]
fn create_container_hook_gets_state() {
    check_stage("createContainer", "creating");
}

#[test]
fn start_container_hook_gets_state() {
    check_stage("startContainer", "created");
}

#[test]
fn poststart_hook_gets_state() {
    check_stage("poststart", "running");
}

#[test]
fn poststop_hook_gets_state() {
    check_stage("poststop", "stopped");
}

#[test]
fn hooks_run_in_order() {
    let out = Out::new();
    let order = out.file("order");
    let mut spec = out.spec().sh("echo process >> /hookout/order");
    for stage in ["prestart", "createRuntime", "createContainer", "poststart", "poststop"] {
        spec = spec.hook(stage, sh_hook(&format!("echo {stage} >> {order}")));
    }
    spec = spec.hook("startContainer", sh_hook("echo startContainer >> /hookout/order"));
    let c = Container::new("hookorder", &spec);
    c.create();
    assert_eq!(out.read("order"), "prestart\ncreateRuntime\ncreateContainer\n");
    c.start().ok();
    c.wait_status("stopped");
    c.delete(false).ok();
    let got = out.read("order");
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(&lines[..4], ["prestart", "createRuntime", "createContainer", "startContainer"]);
    // poststart and the process run concurrently
    let mut rest = lines[4..6].to_vec();
    rest.sort();
    assert_eq!(rest, ["poststart", "process"]);
    assert_eq!(lines[6..], ["poststop"]);
}

#[test]
fn start_container_hook_runs_inside_the_container() {
    let out = Out::new();
    let hook = sh_hook("hostname > /hookout/host; readlink /proc/self/ns/mnt > /hookout/mnt");
    let spec = out.spec().hostname("hook-inside").hook("startContainer", hook).args(&["/bin/true"]);
    let c = Container::new("hookinside", &spec);
    c.create_start();
    c.wait_status("stopped");
    assert_eq!(out.read("host").trim(), "hook-inside");
    assert_ne!(out.read("mnt").trim(), integration_tests::host::own_ns("mnt"));
}

#[test]
fn hook_gets_its_args_and_env() {
    let out = Out::new();
    let file = out.file("args");
    let hook = json!({
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("echo \"$0|$1|$HOOKVAR|$PATH\" > {file}"), "zero", "one"],
        "env": ["HOOKVAR=hook value", "PATH=/hook/path"]
    });
    let c = Container::new("hookargs", &out.spec().hook("prestart", hook));
    c.create();
    assert_eq!(out.read("args"), "zero|one|hook value|/hook/path\n");
}

#[test]
fn hook_timeout_fails_create() {
    let out = Out::new();
    let hook = json!({"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 100"], "timeout": 1});
    let cg = format!("/brig-it-hooktimeout-{}", std::process::id());
    let c = Container::new("hooktimeout", &out.spec().hook("prestart", hook).cgroups_path(&cg));
    c.create_with(&[]).fails();
    c.assert_nothing_left(Some(&cgroup_dir_for(&cg)));
}

fn failing_stage_fails_create(stage: &str) {
    let out = Out::new();
    let cg = format!("/brig-it-hookfail-{stage}-{}", std::process::id());
    let spec = out.spec().hook(stage, sh_hook("echo hook-failed >&2; exit 7")).cgroups_path(&cg);
    let c = Container::new(&format!("hookfail-{stage}"), &spec);
    c.create_with(&[]).fails();
    c.assert_nothing_left(Some(&cgroup_dir_for(&cg)));
}

#[test]
fn failing_prestart_hook_fails_create_and_leaves_nothing() {
    failing_stage_fails_create("prestart");
}

#[test]
fn failing_create_runtime_hook_fails_create_and_leaves_nothing() {
    failing_stage_fails_create("createRuntime");
}

#[test]
fn failing_create_container_hook_fails_create_and_leaves_nothing() {
    failing_stage_fails_create("createContainer");
}

#[test]
fn failing_start_container_hook_fails_start() {
    let out = Out::new();
    let spec = out.spec().hook("startContainer", sh_hook("exit 7")).sh("echo ran > /hookout/ran");
    let c = Container::new("hookfailstart", &spec);
    c.create();
    c.start().fails();
    c.wait_status("stopped");
    assert_eq!(out.read("ran"), "", "the process ran despite the failing hook");
}

#[test]
fn failing_poststart_hook_only_warns() {
    let out = Out::new();
    let spec = out.spec().hook("poststart", sh_hook("exit 7")).sh("echo ready; exec sleep 1000");
    let c = Container::new("hookpoststart", &spec);
    c.create();
    let res = c.start();
    assert!(res.status.success(), "a failing poststart hook must not fail start: {res}");
    c.wait_stdout("ready");
    assert_eq!(c.status(), "running");
}

#[test]
fn failing_poststop_hook_only_warns() {
    let out = Out::new();
    let spec = out.spec().hook("poststop", sh_hook("echo poststop-broke >&2; exit 7")).args(&["/bin/true"]);
    let c = Container::new("hookpoststop", &spec);
    c.create_start();
    c.wait_status("stopped");
    let res = c.delete(false);
    assert!(res.status.success(), "a failing poststop hook must not fail delete: {res}");
    assert!(!res.stderr.trim().is_empty(), "no warning printed: {res}");
    assert!(!c.state_dir().exists());
}
