#!/usr/bin/env bash
# Unpacks canonical raft from Debian (libraft-dev + libraft2) into DIR without
# installing it: its /usr/include/raft.h, libraft.so and raft.pc collide with
# ours.  Its build dependencies (libuv1-dev, liblz4-dev) do not collide and are
# installed with apt-get when missing.  Usage: fetch-peer.sh DIR
set -euo pipefail
dir=$(realpath -m "$1")

need=()
[ -f /usr/include/uv.h ] || need+=(libuv1-dev)
[ -f /usr/include/lz4.h ] || need+=(liblz4-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fetch-peer: please run: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  apt-get install -y "${need[@]}" >&2 || { apt-get update >&2 && apt-get install -y "${need[@]}" >&2; }
fi

mkdir -p "$dir/debs"
cd "$dir/debs"
if ! ls libraft-dev_*.deb libraft2_*.deb >/dev/null 2>&1; then
  # apt-get download works as any user; as root it warns that the _apt
  # sandbox user cannot write here, which is harmless.
  apt-get download libraft-dev libraft2 >&2 ||
    { apt-get update >&2 && apt-get download libraft-dev libraft2 >&2; }
fi
for deb in libraft-dev_*.deb libraft2_*.deb; do dpkg -x "$deb" "$dir"; done
echo "fetch-peer: canonical raft $(dpkg-deb -f libraft-dev_*.deb Version) unpacked into $dir" >&2
