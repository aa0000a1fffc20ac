#!/usr/bin/env bash
# The shared library exports exactly the functions include/raft.h declares RAFT_API, each one
# versioned @@RAFT_0 and listed in src/raft.map, and nothing else (no C++ symbols, no data);
# its SONAME is the file name it is checked under (libraft.so.0).
#
# usage: check-symbols.sh build/libraft.so.0 include/raft.h src/raft.map
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 LIBRARY HEADER VERSION_SCRIPT" >&2
  exit 2
fi
lib=$1 header=$2 map=$3
node=RAFT_0
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# Functions the header promises.
"$here/header_functions.py" "$header" "${CLANG:-clang}" > "$tmp/header"
if [[ ! -s $tmp/header ]]; then
  echo "FAIL: no RAFT_API functions found in $header" >&2
  exit 1
fi

# Names in the version script's global: section (comments removed).
sed -e ':a' -e 's|/\*.*\*/||g' -e '/\/\*/{N;ba' -e '}' "$map" |
  awk '/global:/ {g = 1; next} /local:/ {g = 0} g' | tr -d ' \t;' | { grep -v '^$' || true; } |
  sort > "$tmp/map"

# Dynamic symbols the library defines.  The only entry without @@ is the version node itself.
nm -D --defined-only "$lib" > "$tmp/nm"
awk -v node="$node" '!($2 == "A" && $3 == node)' "$tmp/nm" > "$tmp/exported"
awk '$2 == "T" && $3 ~ /@@/ { split($3, p, "@@"); print p[1] }' "$tmp/exported" | sort > "$tmp/lib"

report() {  # report TITLE FILE: print the lines of FILE under TITLE, and fail, if any
  if [[ -s $2 ]]; then
    echo "FAIL: $1:" >&2
    sed 's/^/    /' "$2" >&2
    fail=1
  fi
}

comm -23 "$tmp/header" "$tmp/map" > "$tmp/x"
report "declared RAFT_API in $header but missing from $map" "$tmp/x"
comm -13 "$tmp/header" "$tmp/map" > "$tmp/x"
report "listed in $map but not declared RAFT_API in $header" "$tmp/x"
comm -23 "$tmp/header" "$tmp/lib" > "$tmp/x"
report "declared in $header but not exported by $lib" "$tmp/x"
awk -v node="$node" '$2 != "T" || $3 !~ ("@@" node "$")' "$tmp/exported" > "$tmp/x"
report "exported symbols that are not functions versioned @@$node" "$tmp/x"
comm -13 "$tmp/header" "$tmp/lib" > "$tmp/x"
report "exported by $lib but not declared in $header" "$tmp/x"
if ! grep -q "^0* A $node\$" "$tmp/nm"; then
  echo "FAIL: $lib defines no version node $node" >&2
  fail=1
fi

expected_soname=$(basename "$lib")
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [[ $soname != "$expected_soname" ]]; then
  echo "FAIL: SONAME of $lib is '${soname}', expected '$expected_soname'" >&2
  fail=1
fi

if [[ $fail -ne 0 ]]; then
  exit 1
fi
echo "ok: $(wc -l < "$tmp/lib") functions exported, all @@$node, exactly those of $header;" \
  "SONAME $soname"
