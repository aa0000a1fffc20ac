#!/usr/bin/env python3
"""Print the functions a public header declares, one per line, sorted.

Two independent readings must agree, so neither can silently miss a declaration:
  * clang's AST (JSON dump): every function the compiler sees, and whether it carries the
    visibility attribute that RAFT_API expands to;
  * the header text: every `RAFT_API ... name(` after comments are removed, including ones
    hidden behind #if blocks the AST does not see.
Exit status 1, with a message on stderr, when a function lacks RAFT_API or the readings differ.

usage: header_functions.py HEADER [CLANG]
"""
import json
import os
import re
import subprocess
import sys


def from_ast(header, clang):
    cmd = [clang, "-x", "c", "-std=c11", "-fsyntax-only", "-Xclang", "-ast-dump=json",
           "-I", os.path.dirname(header) or ".", header]
    ast = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    exported, unexported = set(), set()
    for decl in ast.get("inner", []):
        if decl.get("kind") != "FunctionDecl" or decl.get("isImplicit"):
            continue
        attrs = {node.get("kind") for node in decl.get("inner", [])}
        (exported if "VisibilityAttr" in attrs else unexported).add(decl["name"])
    return exported, unexported


def from_text(header):
    with open(header, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # RAFT_API's own #define
    return set(re.findall(r"\bRAFT_API\b[^;(]*?\b([A-Za-z_]\w*)\s*\(", text))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[-1])
    header = sys.argv[1]
    clang = sys.argv[2] if len(sys.argv) == 3 else "clang"
    exported, unexported = from_ast(header, clang)
    textual = from_text(header)
    ok = True
    for name in sorted(unexported):
        print(f"{header}: {name}() is declared without RAFT_API, so it would not be exported",
              file=sys.stderr)
        ok = False
    for name in sorted(textual - exported - unexported):
        print(f"{header}: RAFT_API {name}() is not seen by the compiler (inside an #if?)",
              file=sys.stderr)
        ok = False
    for name in sorted(exported - textual):
        print(f"{header}: {name}() carries a visibility attribute but not the RAFT_API macro",
              file=sys.stderr)
        ok = False
    if not ok:
        sys.exit(1)
    print("\n".join(sorted(exported)))


if __name__ == "__main__":
    main()
