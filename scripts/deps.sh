#!/usr/bin/env bash
# Installs the Debian packages the demo and the tests need, if any is missing.
# Safe to run repeatedly: with everything present it only checks.
set -euo pipefail
pkgs=(busybox-static jq runc crun iproute2 golang-github-containers-common util-linux procps time python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || { echo "deps.sh: need root to install: ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
