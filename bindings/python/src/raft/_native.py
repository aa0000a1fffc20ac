"""Finding and loading libraft.so.0, and its C declarations.

This is the only module that knows the C ABI.  The ctypes structures below are
hand-written from include/raft.h; tests/test_layout.py compares them with what a
C compiler makes of the header, so a change there cannot silently break them.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import List, Tuple

SONAME = "libraft.so.0"
ENV_VAR = "LIBRAFT_PATH"

# The library must have this major version and be at least this version (the
# struct versions let a newer library accept what this binding passes).
REQUIRED_MAJOR = 0
MIN_VERSION_NUMBER = 100  # 0.1.0

# RAFT_OPTIONS_VERSION, RAFT_CALLBACKS_VERSION, RAFT_STATUS_VERSION, RAFT_STORAGE_VERSION
STRUCT_VERSION = 1
ENTRY_COMMAND = 1  # RAFT_ENTRY_COMMAND
ENTRY_NOOP = 2  # RAFT_ENTRY_NOOP
SNAPSHOT_META_MAX = 65536  # RAFT_SNAPSHOT_META_MAX
SNAPSHOT_MORE = 1  # RAFT_SNAPSHOT_MORE: snapshot_save wants another call

raft_id = c_uint64
# gcc and clang give an enum without negative constants the type unsigned int.
c_enum = c_uint


class raft_options(Structure):
    _fields_ = [
        ("version", c_uint32),
        ("id", raft_id),
        ("peers", POINTER(raft_id)),
        ("n_peers", c_size_t),
        ("heartbeat_ms", c_uint32),
        ("election_timeout_min_ms", c_uint32),
        ("election_timeout_max_ms", c_uint32),
        ("data_dir", c_char_p),
        ("cluster_id", c_uint64),
        ("random_seed", c_uint64),
        ("pre_vote", c_int),
        ("check_quorum", c_int),
        ("max_batch_bytes", c_uint32),
        ("max_inflight", c_uint32),
        ("max_entry_bytes", c_uint32),
        ("max_queue_bytes", c_uint64),
        ("log_level", c_enum),
        ("storage", c_void_p),  # const raft_storage *; custom storage is not wrapped yet
        ("snapshot_interval", c_uint64),
        ("snapshot_trailing", c_uint64),
        ("max_snapshot_chunk_bytes", c_uint32),
        ("busy_poll_us", c_uint32),
        ("max_uncommitted_bytes", c_uint64),
    ]


class raft_entry(Structure):
    _fields_ = [
        ("term", c_uint64),
        ("id", c_uint64),
        ("type", c_uint32),
        ("data", c_void_p),
        ("len", c_size_t),
    ]


ENTRY_FN = CFUNCTYPE(c_int, c_void_p, POINTER(raft_entry))
STORAGE_LOAD_FN = CFUNCTYPE(
    c_int, c_void_p, POINTER(c_uint64), POINTER(raft_id), POINTER(c_uint64), ENTRY_FN, c_void_p
)
STORAGE_SAVE_HARD_STATE_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, raft_id)
STORAGE_APPEND_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, POINTER(raft_entry), c_size_t)
STORAGE_TRUNCATE_FN = CFUNCTYPE(c_int, c_void_p, c_uint64)
STORAGE_SYNC_FN = CFUNCTYPE(c_int, c_void_p)
STORAGE_CLOSE_FN = CFUNCTYPE(None, c_void_p)
STORAGE_SNAPSHOT_BEGIN_FN = CFUNCTYPE(c_int, c_void_p)
STORAGE_SNAPSHOT_WRITE_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
STORAGE_SNAPSHOT_COMMIT_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, c_void_p, c_size_t)
STORAGE_SNAPSHOT_META_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, POINTER(c_size_t))
STORAGE_SNAPSHOT_READ_FN = CFUNCTYPE(
    c_int, c_void_p, c_uint64, c_void_p, c_size_t, POINTER(c_size_t)
)
STORAGE_COMPACT_FN = CFUNCTYPE(c_int, c_void_p, c_uint64)


class raft_storage(Structure):
    _fields_ = [
        ("version", c_uint32),
        ("ctx", c_void_p),
        ("load", STORAGE_LOAD_FN),
        ("save_hard_state", STORAGE_SAVE_HARD_STATE_FN),
        ("append", STORAGE_APPEND_FN),
        ("truncate", STORAGE_TRUNCATE_FN),
        ("sync", STORAGE_SYNC_FN),
        ("close", STORAGE_CLOSE_FN),
        ("snapshot_begin", STORAGE_SNAPSHOT_BEGIN_FN),
        ("snapshot_write", STORAGE_SNAPSHOT_WRITE_FN),
        ("snapshot_commit", STORAGE_SNAPSHOT_COMMIT_FN),
        ("snapshot_meta", STORAGE_SNAPSHOT_META_FN),
        ("snapshot_read", STORAGE_SNAPSHOT_READ_FN),
        ("compact", STORAGE_COMPACT_FN),
    ]


APPLY_FN = CFUNCTYPE(None, c_uint64, c_void_p, c_size_t, c_void_p)
TRANSITION_STATE_FN = CFUNCTYPE(None, c_uint64, c_enum, c_void_p)
SEND_FN = CFUNCTYPE(None, raft_id, c_void_p, c_size_t, c_void_p)
RECEIVE_FN = CFUNCTYPE(c_int, POINTER(c_void_p), POINTER(c_size_t), c_void_p)
HALT_FN = CFUNCTYPE(c_int, c_void_p)
LEADER_FN = CFUNCTYPE(None, raft_id, c_void_p)
LOG_FN = CFUNCTYPE(None, c_enum, c_char_p, c_void_p)
# The writer and reader handles are opaque: plain addresses here.
SNAPSHOT_SAVE_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, c_void_p)
SNAPSHOT_LOAD_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, c_void_p)


class raft_callbacks(Structure):
    _fields_ = [
        ("version", c_uint32),
        ("apply", APPLY_FN),
        ("transition_state", TRANSITION_STATE_FN),
        ("send", SEND_FN),
        ("receive", RECEIVE_FN),
        ("halt", HALT_FN),
        ("leader", LEADER_FN),
        ("log", LOG_FN),
        ("snapshot_save", SNAPSHOT_SAVE_FN),
        ("snapshot_load", SNAPSHOT_LOAD_FN),
    ]


class raft_status(Structure):
    _fields_ = [
        ("version", c_uint32),
        ("id", raft_id),
        ("role", c_enum),
        ("term", c_uint64),
        ("leader", raft_id),
        ("commit_index", c_uint64),
        ("applied_index", c_uint64),
        ("last_index", c_uint64),
        ("snapshot_index", c_uint64),
        ("msgs_sent", c_uint64),
        ("msgs_received", c_uint64),
        ("msgs_rejected", c_uint64),
        ("elections_started", c_uint64),
        ("proposals_queued", c_uint64),
    ]


class raft_proposal(Structure):
    _fields_ = [
        ("id", c_uint64),
        ("data", c_char_p),  # const void *: a bytes object, NULs included (len says how many)
        ("len", c_size_t),
    ]


# (name, restype, argtypes) of every function in raft.h.
_PROTOTYPES = [
    ("raft_version_number", c_uint32, []),
    ("raft_version_string", c_char_p, []),
    ("raft_strerror", c_char_p, [c_int]),
    ("raft_options_init", None, [POINTER(raft_options)]),
    ("raft_storage_init", None, [POINTER(raft_storage)]),
    ("raft_callbacks_init", None, [POINTER(raft_callbacks)]),
    ("raft_snapshot_write", c_int, [c_void_p, c_void_p, c_size_t]),
    ("raft_snapshot_read", c_int64, [c_void_p, c_void_p, c_size_t]),
    ("raft_status_init", None, [POINTER(raft_status)]),
    (
        "raft_node_create",
        c_int,
        [POINTER(c_void_p), POINTER(raft_options), POINTER(raft_callbacks), c_void_p],
    ),
    ("raft_node_destroy", None, [c_void_p]),
    ("raft_node_run", c_int, [c_void_p]),
    ("raft_node_poll", c_int, [c_void_p, c_uint64, POINTER(c_uint64)]),
    ("raft_node_propose", c_int, [c_void_p, c_uint64, c_char_p, c_size_t]),
    (
        "raft_node_propose_batch",
        c_int,
        [c_void_p, POINTER(raft_proposal), c_size_t, POINTER(c_size_t)],
    ),
    ("raft_node_notify", None, [c_void_p]),
    ("raft_node_stop", None, [c_void_p]),
    ("raft_node_status", c_int, [c_void_p, POINTER(raft_status)]),
    ("raft_node_errmsg", c_char_p, [c_void_p]),
]


def _build_tree_candidates() -> List[Path]:
    """build/libraft.so.0 of a source tree that holds this package (running from a checkout)."""
    found = []
    for parent in Path(__file__).resolve().parents:
        lib = parent / "build" / SONAME
        if (parent / "include" / "raft.h").is_file() and lib.exists():
            found.append(lib)
    return found


def _load() -> Tuple[ctypes.CDLL, str]:
    override = os.environ.get(ENV_VAR)
    if override:
        # An explicit choice is never second-guessed: it loads or import fails.
        path = Path(override)
        target = path / SONAME if path.is_dir() else path
        try:
            return ctypes.CDLL(str(target)), str(target)
        except OSError as e:
            raise ImportError(f"raft: cannot load {target} (from ${ENV_VAR}): {e}") from e
    tried = []
    for candidate in _build_tree_candidates():
        try:
            return ctypes.CDLL(str(candidate)), str(candidate)
        except OSError as e:
            tried.append(f"{candidate}: {e}")
    try:
        return ctypes.CDLL(SONAME), SONAME
    except OSError as e:
        tried.append(f"{SONAME} (system loader): {e}")
    raise ImportError(
        "raft: cannot find libraft.so.0; set $" + ENV_VAR + " to the library or its directory."
        " Tried: " + "; ".join(tried)
    )


def _declare(lib: ctypes.CDLL) -> None:
    for name, restype, argtypes in _PROTOTYPES:
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _check_version(lib: ctypes.CDLL, path: str) -> None:
    number = lib.raft_version_number()
    if number // 10000 != REQUIRED_MAJOR or number < MIN_VERSION_NUMBER:
        raise ImportError(
            f"raft: {path} is version {lib.raft_version_string().decode()}; this binding needs"
            f" >= {REQUIRED_MAJOR}.{MIN_VERSION_NUMBER // 100 % 100}.{MIN_VERSION_NUMBER % 100}"
            f" and < {REQUIRED_MAJOR + 1}.0.0"
        )


lib, library_path = _load()
_declare(lib)
_check_version(lib, library_path)
