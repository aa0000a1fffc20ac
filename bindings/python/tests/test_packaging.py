"""`pip install bindings/python` works offline and installs a typed package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import raft

PROJECT = Path(__file__).resolve().parents[1]


def test_pip_install_offline(tmp_path: Path) -> None:
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "src-copy"
    shutil.copytree(
        PROJECT, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PIP_NO_INPUT="1"),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = target / "raft"
    assert (installed / "py.typed").is_file()
    assert sorted(p.name for p in installed.glob("*.py")) == sorted(
        p.name for p in (PROJECT / "src" / "raft").glob("*.py")
    )
    code = "import raft; print(raft.__file__); print(raft.library_path)"
    env = dict(os.environ, PYTHONPATH=str(target), LIBRAFT_PATH=raft.library_path)
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    module_file, library = run.stdout.split()
    assert Path(module_file).parent == installed
    assert library == raft.library_path
