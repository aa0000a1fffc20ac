#!/usr/bin/env bash
# Install round trip, as a distribution or a user would do it:
#   1. `make install DESTDIR=<stage> PREFIX=/usr` installs exactly the expected files;
#   2. tests/abi/consumer.c (a real 3-replica cluster over the public API) builds with
#      `pkg-config --cflags --libs raft` against the stage and runs; the static library links
#      with `pkg-config --static` alone;
#   3. the same consumer builds with CMake find_package(raft) (raft::raft and raft::raft_static)
#      and runs;
#   4. `make uninstall` with the same variables leaves no file behind.
# Then once more with unusual LIBDIR/INCLUDEDIR values, which exercises the relative paths in
# the CMake package and the pkg-config file.
#
# `check-install.sh cmake` does the same with the CMake build: configure (RAFT_WERROR=ON),
# build, check the exported symbols, `cmake --install` with DESTDIR, and for step 4 remove what
# install_manifest.txt lists.
#
# Environment: MAKE, CC, WERROR, BUILDDIR (passed by `make check-abi` so the already built
# library is installed rather than rebuilt).
set -euo pipefail

mode=${1:-make}
if [[ $mode != make && $mode != cmake ]]; then
  echo "usage: $0 [make|cmake]" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
make_cmd=${MAKE:-make}
cc=${CC:-cc}
make_vars=(WERROR="${WERROR:-0}" BUILDDIR="${BUILDDIR:-build}")
version=$(sed -n 's/^#define RAFT_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p' include/raft.h |
  paste -sd.)
major=${version%%.*}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/raft-install.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
trap 'rm -rf "$tmp"' EXIT
cmake_build=${BUILDDIR:-build}/cmake-build

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
say() { printf -- '-- %s\n' "$*"; }

# round NAME PREFIX LIBDIR INCLUDEDIR
round() {
  local name=$1 prefix=$2 libdir=$3 includedir=$4
  local stage=$tmp/$name/stage work=$tmp/$name
  local dirs=(DESTDIR="$stage" PREFIX="$prefix" LIBDIR="$libdir" INCLUDEDIR="$includedir")
  local lib=$stage$libdir inc=$stage$includedir

  mkdir -p "$work"
  say "[$name] $mode install PREFIX=$prefix LIBDIR=$libdir INCLUDEDIR=$includedir DESTDIR=<stage>"
  if [[ $mode == make ]]; then
    "$make_cmd" --no-print-directory install "${dirs[@]}" "${make_vars[@]}" > "$work.log" 2>&1 ||
      { cat "$work.log" >&2; fail "make install failed"; }
  else
    { cmake -S . -B "$cmake_build" -DRAFT_WERROR=ON -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DCMAKE_INSTALL_LIBDIR="$libdir" -DCMAKE_INSTALL_INCLUDEDIR="$includedir" &&
      cmake --build "$cmake_build" && DESTDIR=$stage cmake --install "$cmake_build"; } \
      > "$work.log" 2>&1 || { cat "$work.log" >&2; fail "CMake build or install failed"; }
    tests/abi/check-symbols.sh "$cmake_build/libraft.so.$major" include/raft.h src/raft.map
  fi

  # Exactly these files and links, nothing else.
  {
    echo "$includedir/raft.h"
    [[ ! -f include/raft.hpp ]] || echo "$includedir/raft.hpp"
    echo "$libdir/libraft.so.$version"
    echo "$libdir/libraft.so.$major -> libraft.so.$version"
    echo "$libdir/libraft.so -> libraft.so.$major"
    echo "$libdir/libraft.a"
    echo "$libdir/pkgconfig/raft.pc"
    echo "$libdir/cmake/raft/raftConfig.cmake"
    echo "$libdir/cmake/raft/raftConfigVersion.cmake"
  } | sort > "$work/expected"
  (cd "$stage" && find . -type f -printf '/%P\n' -o -type l -printf '/%P -> %l\n' | sort) \
    > "$work/installed"
  if ! diff -u "$work/expected" "$work/installed"; then
    fail "make install wrote a different set of files (- expected, + installed)"
  fi
  for h in raft.h raft.hpp; do
    [[ ! -f include/$h ]] || cmp -s "include/$h" "$inc/$h" || fail "installed $h differs"
  done
  say "[$name] installed the $(wc -l < "$work/expected") expected files and links"

  # pkg-config, seeing only the staged module: never a system raft.pc (Debian's libraft-dev
  # ships one for canonical raft).  The sysroot maps /usr/... into the stage; the ALLOW_SYSTEM
  # variables keep -I/usr/include and -L/usr/lib, which point into the stage here.
  local pc_env=(PKG_CONFIG_LIBDIR="$lib/pkgconfig" PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR="$stage"
    PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1)
  local got cflags libs static_libs
  got=$(env "${pc_env[@]}" pkg-config --modversion raft)
  [[ $got == "$version" ]] || fail "pkg-config --modversion raft gives '$got', expected $version"
  cflags=$(env "${pc_env[@]}" pkg-config --cflags raft)
  libs=$(env "${pc_env[@]}" pkg-config --libs raft)
  [[ " $cflags " == *" -I$inc "* ]] || fail "pkg-config --cflags raft gives '$cflags'"
  [[ " $libs " == *" -L$lib "* && " $libs " == *" -lraft "* ]] ||
    fail "pkg-config --libs raft gives '$libs'"
  say "[$name] pkg-config: $cflags $libs"

  # shellcheck disable=SC2086  # flags are word lists
  "$cc" -std=c99 -pedantic -Wall -Wextra -Werror $cflags tests/abi/consumer.c -o "$work/consumer" \
    $libs || fail "consumer does not build with pkg-config flags"
  # (grep reads all its input here: grep -q could end the pipe early and trip pipefail.)
  readelf -d "$work/consumer" | grep "NEEDED.*\[libraft\.so\.$major\]" > /dev/null ||
    fail "consumer is not linked against libraft.so.$major"
  LD_LIBRARY_PATH=$lib ldd "$work/consumer" | grep "libraft\.so\.$major => $lib/" > /dev/null ||
    fail "consumer does not load the staged libraft.so.$major"
  LD_LIBRARY_PATH=$lib "$work/consumer" || fail "consumer (pkg-config, shared) failed"

  # Static: the archive plus Libs.private must be enough.
  static_libs=$(env "${pc_env[@]}" pkg-config --static --libs raft | sed 's/\(^\| \)-lraft\b//')
  # shellcheck disable=SC2086
  "$cc" -std=c99 $cflags tests/abi/consumer.c -o "$work/consumer_static" "$lib/libraft.a" \
    $static_libs || fail "static consumer does not link with pkg-config --static flags"
  if readelf -d "$work/consumer_static" | grep 'NEEDED.*libraft' > /dev/null; then
    fail "static consumer still needs a shared libraft"
  fi
  "$work/consumer_static" > /dev/null || fail "consumer (pkg-config, static) failed"
  say "[$name] pkg-config consumers (shared and static) ran a 3-replica cluster"

  # CMake, finding the package only through CMAKE_PREFIX_PATH.
  cmake -S tests/abi/cmake-consumer -B "$work/cmake" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$stage$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log" >&2; fail "CMake configure of the consumer failed"; }
  grep -qx "raft_DIR:PATH=$lib/cmake/raft" "$work/cmake/CMakeCache.txt" ||
    fail "find_package(raft) did not find the staged package: $(grep raft_DIR "$work/cmake/CMakeCache.txt")"
  cmake --build "$work/cmake" > "$work/cmake-build.log" 2>&1 ||
    { cat "$work/cmake-build.log" >&2; fail "CMake build of the consumer failed"; }
  LD_LIBRARY_PATH=$lib "$work/cmake/consumer" > /dev/null || fail "consumer (CMake, shared) failed"
  "$work/cmake/consumer_static" > /dev/null || fail "consumer (CMake, static) failed"
  say "[$name] CMake find_package(raft) consumers (raft::raft, raft::raft_static) ran"

  if [[ $mode == make ]]; then
    "$make_cmd" --no-print-directory uninstall "${dirs[@]}" "${make_vars[@]}" > "$work.log" 2>&1 ||
      { cat "$work.log" >&2; fail "make uninstall failed"; }
  else
    # CMake has no uninstall; its manifest must name every file so a packager can remove them.
    local f
    while IFS= read -r f || [[ -n $f ]]; do
      [[ $f == "$stage"/* ]] || f=$stage$f # the manifest may or may not include DESTDIR
      rm -f "$f"
    done < "$cmake_build/install_manifest.txt"
  fi
  local left
  left=$(cd "$stage" && find . \( -type f -o -type l \) -printf '/%P\n')
  [[ -z $left ]] || fail "$mode uninstall left files behind:"$'\n'"$left"
  say "[$name] $mode uninstall removed every installed file"
}

round usr /usr /usr/lib /usr/include
round opt /opt/libraft /opt/libraft/lib/x86_64-linux-gnu "/opt/libraft/include/raft-$major"
echo "ok: $mode install, pkg-config and CMake consumers, uninstall (two layouts)"
