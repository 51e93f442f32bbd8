#!/usr/bin/env bash
# Builds the microblog image of the engine end-to-end tests, once, and caches it.
#
# The image is the classic Flask tutorial deployment, made without a registry:
# debootstrap --variant=minbase, python3, a venv with flask and gunicorn (wheels
# fetched by the host's pip, installed offline in the chroot), and these
# Dockerfile facts, which the engines get through `import --change` or the
# config of the docker-archive below:
#   RUN adduser microblog (also in group blog), WORKDIR /home/microblog,
#   ENV FLASK_APP microblog.py, USER microblog, EXPOSE 5000,
#   ENTRYPOINT ["./boot.sh"], boot.sh ending in `exec gunicorn ...`.
#
# Output, in ${BRIG_E2E_CACHE:-/var/cache/brig-e2e} (printed on stdout):
#   microblog-rootfs.tar   flat rootfs, for `docker import` / `podman import`
#   microblog-image.tar    docker-archive with the image config, for `ctr images import`
# `image.sh --changes` prints the matching --change lines, one per line.
# The cache is keyed on this script and docker_archive.py: edit it and the image is rebuilt.
set -euo pipefail

changes() {
  cat <<'C'
USER microblog
WORKDIR /home/microblog
ENV FLASK_APP=microblog.py
ENV PATH=/home/microblog/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EXPOSE 5000
ENTRYPOINT ["./boot.sh"]
C
}
if [[ ${1:-} == --changes ]]; then changes; exit 0; fi

cache=${BRIG_E2E_CACHE:-/var/cache/brig-e2e}
mirror=${BRIG_E2E_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$0" "$here/docker_archive.py" | sha256sum | cut -d" " -f1)
if [[ -f $cache/key && $(cat "$cache/key") == "$key" && -f $cache/microblog-image.tar ]]; then
  echo "$cache"; exit 0
fi

log() { echo "image.sh: $*" >&2; }
[[ $(id -u) == 0 ]] || { log "must run as root (debootstrap, chroot)"; exit 1; }
if ! command -v debootstrap >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends debootstrap >&2
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

log "debootstrap minbase bookworm from $mirror"
debootstrap --variant=minbase --include=python3,python3-venv,adduser \
  bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# Wheels come from the host's pip (the chroot has no CA bundle nor pip config);
# flask and gunicorn are pure python, markupsafe has a cp311 manylinux wheel,
# and bookworm's python3 is 3.11.
log "fetching flask and gunicorn wheels"
python3 -m pip download -q -d "$work/wheels" --only-binary=:all: \
  --python-version 3.11 --platform manylinux2014_x86_64 --implementation cp \
  flask gunicorn >&2
mkdir -p "$root/tmp/wheels" && cp "$work"/wheels/*.whl "$root/tmp/wheels/"

log "user, venv and app"
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root chroot "$root" "$@"; }
in_root adduser --disabled-password --gecos '' microblog >/dev/null
in_root addgroup --system blog >/dev/null
in_root adduser microblog blog >/dev/null
in_root python3 -m venv /home/microblog/venv
in_root /home/microblog/venv/bin/pip install -q --no-index --find-links /tmp/wheels flask gunicorn
cat >"$root/home/microblog/microblog.py" <<'PY'
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello, World!\n"
PY
cat >"$root/home/microblog/boot.sh" <<'SH'
#!/bin/sh
. venv/bin/activate
exec gunicorn -b :5000 --access-logfile - --error-logfile - microblog:app
SH
chmod 755 "$root/home/microblog/boot.sh"
in_root chown -R microblog:microblog /home/microblog
rm -rf "$root/tmp/wheels" "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/dev/* "$root"/proc/* "$root"/sys/*

log "writing the tarballs"
tar --numeric-owner -C "$root" -cf "$work/microblog-rootfs.tar" .
python3 "$here/docker_archive.py" "$work/microblog-rootfs.tar" "$work/microblog-image.tar" \
  localhost/microblog:latest < <(changes)
mv "$work/microblog-rootfs.tar" "$work/microblog-image.tar" "$cache/"
echo "$key" >"$cache/key"
echo "$cache"
