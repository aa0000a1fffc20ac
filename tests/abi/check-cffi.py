#!/usr/bin/python3
"""An FFI generator can read raft.h: Python's cffi parses the preprocessed header, then
  * lays out every public struct exactly as the C compiler does (cffi computes layouts from
    the declarations alone, as most FFI generators do, so a layout that needs the compiler's
    help - packing, bit-fields, attributes - shows up here);
  * loads the shared library and resolves every function the header declares;
  * calls raft_version_number() and raft_version_string() and compares them with the
    header's RAFT_VERSION_* macros.

usage: check-cffi.py include/raft.h build/libraft.so      (CC selects the C compiler)

The header is preprocessed without its #includes and without compiler predefines, so what cffi
sees is raft.h's own declarations (cffi knows the <stdint.h>/<stddef.h> types) and RAFT_API
expands to nothing.  Integer #defines are handed to cffi too, since cdef accepts them.
"""
import os
import re
import subprocess
import sys
import tempfile

import cffi


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def preprocess(header, cc):
    text = open(header, encoding="utf-8").read()
    body = re.sub(r"^\s*#\s*include\b.*$", "", text, flags=re.M)
    out = subprocess.run([cc, "-E", "-P", "-undef", "-nostdinc", "-x", "c", "-"], input=body,
                         capture_output=True, text=True, check=True).stdout
    # Plain integer constants only: cdef rejects expressions and casts (RAFT_NO_ID), which an
    # FFI user reads from the documentation instead.
    defines = re.findall(r"^\s*#\s*define\s+(RAFT_\w+)\s+\(?(-?\d+)\)?\s*(?:/\*.*)?$", text,
                         flags=re.M)
    return out, dict(defines)


def c_layout(cc, header_dir, structs, tmp):
    """sizeof and offsetof as the C compiler sees them: {(type, field or ''): value}."""
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "raft.h"', "int main(void) {"]
    for name, fields in structs.items():
        lines.append(f'  printf("{name} - %zu\\n", sizeof({name}));')
        for f in fields:
            lines.append(f'  printf("{name} {f} %zu\\n", offsetof({name}, {f}));')
    lines += ["  return 0;", "}"]
    src, exe = os.path.join(tmp, "layout.c"), os.path.join(tmp, "layout")
    with open(src, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([cc, "-std=c99", "-I", header_dir, src, "-o", exe], check=True)
    result = {}
    for line in subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split(
            "\n"):
        if line:
            name, field, value = line.split()
            result[(name, "" if field == "-" else field)] = int(value)
    return result


def main():
    if len(sys.argv) != 3:
        print("usage: check-cffi.py HEADER SHARED_LIBRARY", file=sys.stderr)
        return 2
    header, lib = sys.argv[1:]
    cc = os.environ.get("CC", "cc")
    decls, defines = preprocess(header, cc)

    ffi = cffi.FFI()
    try:
        ffi.cdef(decls + "".join(f"#define {k} {v}\n" for k, v in defines.items()))
    except cffi.CDefError as e:
        fail(f"cffi cannot parse the preprocessed {header}: {e}")

    typedefs, structs_named, _unions = ffi.list_types()
    structs = {}
    for name in typedefs:
        t = ffi.typeof(name)
        if t.kind == "struct" and t.fields is not None:  # (opaque handles have no fields)
            structs[name] = [f for f, _ in t.fields]
    if not structs:
        fail("cffi found no public struct in " + header)
    with tempfile.TemporaryDirectory() as tmp:
        want = c_layout(cc, os.path.dirname(header) or ".", structs, tmp)
    for name, fields in structs.items():
        t = ffi.typeof(name)
        if ffi.sizeof(t) != want[(name, "")]:
            fail(f"sizeof({name}): cffi {ffi.sizeof(t)}, C {want[(name, '')]}")
        for f, field in t.fields:
            if field.offset != want[(name, f)]:
                fail(f"offsetof({name}, {f}): cffi {field.offset}, C {want[(name, f)]}")

    functions = re.findall(r"\b(raft_\w+)\s*\(", decls)
    functions = sorted({f for f in functions if not re.search(r"\(\s*\*\s*" + f, decls)})
    so = ffi.dlopen(os.path.abspath(lib))
    for f in functions:
        try:
            getattr(so, f)
        except AttributeError:
            fail(f"{f} is declared in {header} but {lib} does not export it")
    version = so.raft_version_number()
    expected = (int(defines["RAFT_VERSION_MAJOR"]), int(defines["RAFT_VERSION_MINOR"]),
                int(defines["RAFT_VERSION_PATCH"]))
    got = ffi.string(so.raft_version_string()).decode()
    number = expected[0] * 10000 + expected[1] * 100 + expected[2]  # RAFT_VERSION_NUMBER
    if got != "%d.%d.%d" % expected or version != number:
        fail(f"libraft says {got!r} ({version}); the header says {expected}")
    print(f"ok: cffi parsed {os.path.basename(header)} ({len(functions)} functions, "
          f"{len(structs)} structs, {len(defines)} constants); struct layouts match {cc}; "
          f"called libraft {got} (number {version}) through cffi")
    return 0


if __name__ == "__main__":
    sys.exit(main())
