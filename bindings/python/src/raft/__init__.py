"""Python binding of libraft, a Raft consensus library with a stable C ABI.

Pure Python over ctypes: no compiler at install time.  libraft.so.0 is found
through $LIBRAFT_PATH (the library or its directory), then the build/ directory
of a source checkout holding this package, then the system loader.
"""

from ._callbacks import LogSink, logging_sink
from ._interfaces import Cluster, StateMachine
from ._native import library_path, lib as _lib
from ._replica import Replica
from ._snapshot import SNAPSHOT_MORE, SnapshotReader, SnapshotWriter
from ._types import NO_ID, ErrorCode, LogLevel, RaftError, Role, Status, TransitionState, strerror

__version__ = "0.1.0"


def library_version() -> str:
    """The version of the libraft actually loaded, e.g. "0.1.0"."""
    text: bytes = _lib.raft_version_string()
    return text.decode()


__all__ = [
    "NO_ID",
    "Cluster",
    "ErrorCode",
    "LogLevel",
    "LogSink",
    "RaftError",
    "Replica",
    "Role",
    "SNAPSHOT_MORE",
    "SnapshotReader",
    "SnapshotWriter",
    "StateMachine",
    "Status",
    "TransitionState",
    "library_path",
    "library_version",
    "logging_sink",
    "strerror",
]
