"""The binding's view of raft.h (structs, constants, version) against a C compiler's.

A C program is generated from the binding's own declarations and compiled against
the header.  Per struct it holds a positional initializer with one 0 per field the
binding knows: -Werror turns "missing initializer" and "excess elements" into
errors, so the field count must match exactly, even for a field hidden in padding.
Then it prints sizeof and every field's offset and size for comparison.
"""

from __future__ import annotations

import ctypes
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import raft
from raft import _native

STRUCTS = [
    ("raft_options", _native.raft_options),
    ("raft_callbacks", _native.raft_callbacks),
    ("raft_status", _native.raft_status),
    ("raft_entry", _native.raft_entry),
    ("raft_storage", _native.raft_storage),
    ("raft_proposal", _native.raft_proposal),
]

ERROR_NAMES = {
    "INVALID": "RAFT_EINVAL",
    "NO_MEMORY": "RAFT_ENOMEM",
    "NOT_LEADER": "RAFT_ENOTLEADER",
    "BUSY": "RAFT_EBUSY",
    "SHUTDOWN": "RAFT_ESHUTDOWN",
    "IO": "RAFT_EIO",
    "CORRUPT": "RAFT_ECORRUPT",
    "TOO_BIG": "RAFT_ETOOBIG",
    "CALLBACK": "RAFT_ECALLBACK",
    "VERSION": "RAFT_EVERSION",
    "INTERNAL": "RAFT_EINTERNAL",
    "NOT_SUPPORTED": "RAFT_ENOTSUP",
}


def constants() -> Dict[str, int]:
    """Every C constant the binding mirrors, by its C name."""
    out = {"RAFT_NO_ID": raft.NO_ID, "RAFT_VERSION_NUMBER": raft._lib.raft_version_number()}
    for kind in ("OPTIONS", "CALLBACKS", "STATUS", "STORAGE"):
        out[f"RAFT_{kind}_VERSION"] = _native.STRUCT_VERSION
    out["RAFT_ENTRY_COMMAND"] = _native.ENTRY_COMMAND
    out["RAFT_ENTRY_NOOP"] = _native.ENTRY_NOOP
    out["RAFT_SNAPSHOT_META_MAX"] = _native.SNAPSHOT_META_MAX
    out["RAFT_SNAPSHOT_MORE"] = raft.SNAPSHOT_MORE
    out.update({"RAFT_" + m.name: m.value for m in raft.Role})
    out.update({"RAFT_TRANSITION_" + m.name: m.value for m in raft.TransitionState})
    out.update({"RAFT_LOG_" + m.name: m.value for m in raft.LogLevel})
    assert set(ERROR_NAMES) == {m.name for m in raft.ErrorCode}, "ERROR_NAMES is incomplete"
    out.update({ERROR_NAMES[m.name]: m.value for m in raft.ErrorCode})
    return out


def c_program() -> str:
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <raft.h>", "int main(void) {"]
    for name, cls in STRUCTS:
        zeros = ", ".join("0" for _ in cls._fields_)
        lines.append(f"  {{ {name} probe = {{{zeros}}}; (void)probe; }}")
        lines.append(f'  printf("{name} %zu\\n", sizeof({name}));')
        for field, _ in cls._fields_:
            lines.append(
                f'  printf("{name}.{field} %zu %zu\\n", offsetof({name}, {field}),'
                f" sizeof((({name} *)0)->{field}));"
            )
    for cname in constants():
        lines.append(f'  printf("{cname} %lld\\n", (long long)({cname}));')
    lines += ["  return 0;", "}"]
    return "\n".join(lines) + "\n"


def include_dir() -> Path:
    env = os.environ.get("RAFT_INCLUDE_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "include"


@pytest.fixture(scope="module")
def c_view(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Tuple[int, ...]]:
    work = tmp_path_factory.mktemp("layout")
    (work / "layout.c").write_text(c_program())
    cc = shlex.split(os.environ.get("CC") or "cc")
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wmissing-field-initializers"]
    compile_cmd = cc + flags + ["-I", str(include_dir()), "layout.c", "-o", "layout"]
    built = subprocess.run(compile_cmd, cwd=work, capture_output=True, text=True)
    assert built.returncode == 0, (
        "the binding's declarations disagree with raft.h:\n" + built.stderr
    )
    output = subprocess.run([str(work / "layout")], capture_output=True, text=True, check=True)
    view: Dict[str, Tuple[int, ...]] = {}
    for line in output.stdout.splitlines():
        key, *numbers = line.split()
        view[key] = tuple(int(n) for n in numbers)
    return view


@pytest.mark.parametrize("name,cls", STRUCTS, ids=[s[0] for s in STRUCTS])
def test_struct_layout_matches_header(
    name: str, cls: type, c_view: Dict[str, Tuple[int, ...]]
) -> None:
    mismatches: List[str] = []
    if c_view[name] != (ctypes.sizeof(cls),):
        mismatches.append(f"sizeof: C {c_view[name][0]}, binding {ctypes.sizeof(cls)}")
    for field, _ in cls._fields_:
        descriptor = getattr(cls, field)
        mine = (descriptor.offset, descriptor.size)
        if c_view[f"{name}.{field}"] != mine:
            mismatches.append(
                f"{field} (offset, size): C {c_view[f'{name}.{field}']}, binding {mine}"
            )
    assert not mismatches, f"{name}: " + "; ".join(mismatches)


def test_constants_match_header(c_view: Dict[str, Tuple[int, ...]]) -> None:
    wrong = {k: (c_view[k][0], v) for k, v in constants().items() if c_view[k] != (v,)}
    assert not wrong, f"(C, binding) differ: {wrong}"


def test_mismatch_is_detected(tmp_path: Path) -> None:
    """The probe itself works: one field too few must not compile."""
    fields = ", ".join("0" for _ in _native.raft_status._fields_[:-1])
    source = tmp_path / "short.c"
    body = f"raft_status s = {{{fields}}}; (void)s; return 0;"
    source.write_text(f"#include <raft.h>\nint main(void) {{ {body} }}\n")
    cc = shlex.split(os.environ.get("CC") or "cc")
    result = subprocess.run(
        cc
        + [
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-I",
            str(include_dir()),
            "-c",
            str(source),
            "-o",
            os.devnull,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "proposals_queued" in result.stderr


def _import_in_child(env_path: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, LIBRAFT_PATH=env_path, PYTHONPATH=str(Path(raft.__file__).parents[1]))
    code = "import raft; print(raft.library_path); print(raft.library_version())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_libraft_path_selects_the_library() -> None:
    lib_dir = Path(raft.library_path).resolve().parent
    by_dir = _import_in_child(str(lib_dir))
    assert by_dir.returncode == 0, by_dir.stderr
    assert by_dir.stdout.split() == [str(lib_dir / "libraft.so.0"), raft.library_version()]
    by_file = _import_in_child(str(lib_dir / "libraft.so.0"))
    assert by_file.stdout.split()[0] == str(lib_dir / "libraft.so.0")


def test_bad_libraft_path_fails_the_import(tmp_path: Path) -> None:
    broken = _import_in_child(str(tmp_path / "nothing-here.so"))
    assert broken.returncode != 0
    assert "ImportError" in broken.stderr and "LIBRAFT_PATH" in broken.stderr


def header_functions() -> set:
    """Every function raft.h exports (RAFT_API ... name(), comments removed)."""
    text = (include_dir() / "raft.h").read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # RAFT_API's own #define
    return set(re.findall(r"\bRAFT_API\b[^;(]*?\b([A-Za-z_]\w*)\s*\(", text))


def test_every_header_function_is_declared() -> None:
    declared = {name for name, _, _ in _native._PROTOTYPES}
    assert declared == header_functions()
