#!/usr/bin/env python3
"""Wraps a flat rootfs tar into a one-layer docker-archive (`docker save` format).

Usage: docker_archive.py ROOTFS.tar OUT.tar REPO:TAG < changes
where `changes` holds Dockerfile-style lines (USER, WORKDIR, ENV K=V, EXPOSE,
ENTRYPOINT [json]), the same lines `image.sh --changes` gives to `import --change`.
containerd's `ctr images import`, `docker load` and `podman load` all read it.
"""
import hashlib
import io
import json
import sys
import tarfile


def image_config(lines):
    cfg = {"Env": [], "ExposedPorts": {}}
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        if word == "USER":
            cfg["User"] = rest
        elif word == "WORKDIR":
            cfg["WorkingDir"] = rest
        elif word == "ENV":
            cfg["Env"].append(rest)
        elif word == "EXPOSE":
            cfg["ExposedPorts"][rest + "/tcp"] = {}
        elif word == "ENTRYPOINT":
            cfg["Entrypoint"] = json.loads(rest)
        elif word:
            raise SystemExit(f"docker_archive.py: unknown change {word!r}")
    return cfg


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def main():
    rootfs, out, tag = sys.argv[1:4]
    diff_id = sha256_file(rootfs)
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": image_config(sys.stdin),
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created_by": "brig e2e image.sh"}],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = diff_id + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [layer_name]}]
    with tarfile.open(out, "w") as tar:
        add_bytes(tar, config_name, config)
        tar.add(rootfs, arcname=layer_name)
        add_bytes(tar, "manifest.json", json.dumps(manifest).encode())


if __name__ == "__main__":
    main()
