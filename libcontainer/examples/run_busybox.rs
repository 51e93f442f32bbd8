//! Runs a busybox container from Rust and prints its output.
//!
//! ```sh
//! cargo run -p libcontainer --example run_busybox    # as root, needs /bin/busybox
//! ```

use std::path::Path;

use libcontainer::{Container, CreateOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bundle = std::env::temp_dir().join(format!("brig-example-{}", std::process::id()));
    make_bundle(&bundle)?;
    let root = bundle.join("state");

    // The five lines a tool needs to run a container:
    let opts = CreateOptions::new(&root, "example", &bundle);
    let mut c = Container::create(&opts)?;
    c.start()?;
    let status = c.wait()?;
    c.delete(true)?;

    println!("container exited with status {status}");
    std::fs::remove_dir_all(&bundle)?;
    Ok(())
}

/// A rootfs with a static busybox, and a config.json running `uname` and `id`.
fn make_bundle(bundle: &Path) -> std::io::Result<()> {
    let bin = bundle.join("rootfs/bin");
    std::fs::create_dir_all(&bin)?;
    for d in ["proc", "dev", "sys", "tmp"] {
        std::fs::create_dir_all(bundle.join("rootfs").join(d))?;
    }
    std::fs::copy("/bin/busybox", bin.join("busybox"))?;
    let config = serde_json::json!({
        "ociVersion": "1.2.0",
        "root": { "path": "rootfs" },
        "hostname": "example",
        "process": {
            "user": { "uid": 0, "gid": 0 },
            "cwd": "/",
            "args": ["/bin/busybox", "sh", "-c", "echo hello from $(busybox hostname), pid $$; busybox id"],
            "env": ["PATH=/bin"],
            "noNewPrivileges": true
        },
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"] }
        ],
        "linux": {
            "namespaces": [
                { "type": "pid" }, { "type": "mount" }, { "type": "uts" }, { "type": "ipc" }, { "type": "network" }
            ]
        }
    });
    std::fs::write(bundle.join("config.json"), config.to_string())
}
