#!/usr/bin/env bash
# The public headers compile on their own in every dialect a user may pick:
#   raft.h   as C89 (stdint.h is fine), C99 and C11, and as C++11, C++17 and C++20;
#   raft.hpp (if present) as C++17 and C++20;
# with -pedantic -Wall -Wextra -Werror (plus a few stricter warnings), under gcc and clang.
# Then one C++ program is linked against the shared library and run, which proves the
# functions have C linkage from C++; last, Python's cffi reads the header (check-cffi.py).
#
# usage: check-headers.sh build/libraft.so      (CC, CXX select the first compiler pair)
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 SHARED_LIBRARY" >&2
  exit 2
fi
lib=$1
here=$(dirname "$0")
root=$here/../..
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The build's compiler plus both families: what one accepts the other may not (clang is in
# scripts/install-deps).  A compiler reached under two names (cc and gcc) is used once.
unique_compilers() {
  local c real seen=" "
  for c in "$@"; do
    real=$(readlink -f "$(command -v "$c")") || continue
    [[ $seen == *" $real "* ]] || printf '%s\n' "$c"
    seen+="$real "
  done
}
mapfile -t c_compilers < <(unique_compilers "${CC:-gcc}" gcc clang)
mapfile -t cxx_compilers < <(unique_compilers "${CXX:-g++}" g++ clang++)

# header_c.c takes the address of every public function (so a changed signature fails); it
# must keep up with the header.
missing=$(comm -23 <("$here/header_functions.py" "$root/include/raft.h" "${CLANG:-clang}") \
  <(grep -o '\braft_[a-z_0-9]*' "$here/header_c.c" | sort -u))
if [[ -n $missing ]]; then
  echo "FAIL: tests/abi/header_c.c does not use these functions of raft.h: ${missing//$'\n'/ }" >&2
  exit 1
fi

warn=(-pedantic -Wall -Wextra -Werror -Wundef -Wshadow -Wcast-qual)
cwarn=(-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition)
n=0
compile() {  # compile COMPILER STD FILE EXTRA...: compile FILE to an object, or fail loudly
  local cc=$1 std=$2 file=$3
  shift 3
  if ! "$cc" "-std=$std" "${warn[@]}" "$@" -I"$root/include" -O2 -c "$file" -o "$tmp/out.o"; then
    echo "FAIL: $(basename "$file") does not compile with $cc -std=$std" >&2
    exit 1
  fi
  printf '  %-10s %-8s %s\n' "$cc" "$std" "$(basename "$file")"
  n=$((n + 1))
}

for cc in "${c_compilers[@]}"; do
  for std in c89 c99 c11; do
    # C89 has no declarations after statements; keep the header usable by such code.
    extra=()
    [[ $std != c89 ]] || extra=(-Wdeclaration-after-statement)
    compile "$cc" "$std" "$here/header_c.c" "${cwarn[@]}" "${extra[@]}"
  done
done
for cxx in "${cxx_compilers[@]}"; do
  for std in c++11 c++17 c++20; do
    compile "$cxx" "$std" "$here/header_cpp.cpp"
  done
  if [[ -f $root/include/raft.hpp ]]; then
    for std in c++17 c++20; do
      compile "$cxx" "$std" "$here/header_hpp.cpp"
    done
  fi
done

# C linkage from C++: link against the shared library and run.
"${CXX:-g++}" -std=c++17 -I"$root/include" "$here/header_cpp.cpp" -o "$tmp/cpp_consumer" \
  -L"$(dirname "$lib")" -Wl,-rpath,"$(cd "$(dirname "$lib")" && pwd)" -lraft
if ! "$tmp/cpp_consumer"; then
  echo "FAIL: a C++ program linked against $lib does not run correctly" >&2
  exit 1
fi
echo "ok: $n header compilations clean; a C++ program links and runs against $lib"

# FFI generators: cffi (Debian's python3-cffi, hence the system interpreter) parses the header,
# agrees with the C compiler on every struct layout, and calls into the library.
CC=${CC:-gcc} /usr/bin/python3 "$here/check-cffi.py" "$root/include/raft.h" "$lib"
