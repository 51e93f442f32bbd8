//! The compiled-stack cache and the agent hand-off.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;

use super::*;
use crate::security::seccomp::cache::{self, Key};
use crate::security::seccomp::{compile_cached, listener};

const PROFILE: &str = r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"],
    "syscalls":[{"names":["read","write","nosuchcall"],"action":"SCMP_ACT_ALLOW"},
    {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#;

fn spec(json: &str) -> oci_spec::runtime::LinuxSeccomp {
    serde_json::from_str(json).unwrap()
}

#[test]
fn encode_decode_roundtrip() {
    let s = spec(PROFILE);
    let p = compile(&s).unwrap();
    let key = Key::new(&s).unwrap();
    let bytes = cache::encode(&key, &p);
    assert_eq!(cache::decode(&bytes, &key), Some(p.clone()));
    assert_eq!(p.skipped(), ["nosuchcall"]);
    // Another profile's key never matches; truncations are refused.
    let other = Key::new(&spec(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#)).unwrap();
    assert_eq!(cache::decode(&bytes, &other), None);
    for n in [0, 7, 8, 20, bytes.len() - 9] {
        assert_eq!(cache::decode(&bytes[..n], &key), None, "truncated at {n}");
    }
}

#[test]
fn second_compile_comes_from_the_cache() {
    let root = scratch("cache");
    let s = spec(PROFILE);
    let first = compile_cached(&s, &root).unwrap();
    let dir = root.join(".seccomp@cache");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    let second = compile_cached(&s, &root).unwrap();
    assert_eq!(first, second);
    // The listener fields do not change the BPF: same entry.
    let mut with_listener = s.clone();
    with_listener.set_listener_path(Some("/run/agent".into()));
    compile_cached(&with_listener, &root).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A corrupted entry is ignored and replaced.
    let entry = files[0].as_ref().unwrap().path();
    std::fs::write(&entry, b"garbage").unwrap();
    assert_eq!(compile_cached(&s, &root).unwrap(), first);
    assert!(std::fs::read(&entry).unwrap().starts_with(b"BRIGSC"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn agent_gets_state_and_fd() {
    let dir = scratch("agent");
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("agent.sock");
    let l = UnixListener::bind(&sock).unwrap();
    let s = spec(&format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"{}","listenerMetadata":"MKNOD=/dev/null",
            "syscalls":[{{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}}]}}"#,
        sock.display()
    ));
    let state = br#"{"ociVersion":"1.2.1","id":"c1","status":"creating","pid":42,"bundle":"/b"}"#;
    let f = std::fs::File::open("/dev/null").unwrap();
    listener::send_to_agent(&s, 42, state, f.as_fd()).unwrap();
    let (mut conn, _) = l.accept().unwrap();
    let mut body = Vec::new();
    // The fd rides on the first message; reading plain bytes drops it here,
    // what matters is that the JSON is complete and the stream closed.
    conn.read_to_end(&mut body).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["fds"], serde_json::json!(["seccompFd"]));
    assert_eq!(v["pid"], 42);
    assert_eq!(v["metadata"], "MKNOD=/dev/null");
    assert_eq!(v["state"]["id"], "c1");
    assert_eq!(v["state"]["status"], "creating");
    // No agent listening: an error naming the path.
    drop(l);
    std::fs::remove_file(&sock).unwrap();
    let e = listener::send_to_agent(&s, 42, state, f.as_fd()).unwrap_err().to_string();
    assert!(e.contains("agent.sock"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cache_dir_is_no_container_id() {
    assert!(crate::state::ContainerId::parse(cache::DIR).is_err());
}
