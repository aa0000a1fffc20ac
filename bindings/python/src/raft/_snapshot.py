"""The streams a state machine saves its snapshot through and loads it from.

Both wrap a handle that libraft owns and that is valid only during one call of
``save_snapshot`` or ``load_snapshot``: the wrapper is invalidated when that call
returns, so a stray reference fails cleanly instead of touching freed memory.
"""

from __future__ import annotations

import ctypes
from typing import List, Optional

from ._interfaces import Bytes
from ._native import SNAPSHOT_MORE, lib
from ._types import ErrorCode, RaftError

__all__ = ["SNAPSHOT_MORE", "SnapshotReader", "SnapshotWriter"]

# Bytes per raft_snapshot_read call when read() is asked for everything.
_READ_ALL_STEP = 64 * 1024


class SnapshotWriter:
    """Where ``StateMachine.save_snapshot`` writes the state machine's bytes."""

    def __init__(self, handle: int) -> None:
        self._handle: Optional[int] = handle

    def write(self, data: Bytes) -> int:
        """Append ``data`` to the snapshot; returns its length.

        Raises RaftError when storage fails (the snapshot is then given up whatever
        save_snapshot returns) or when the writer is used after its call returned.
        """
        if isinstance(data, str):
            raise TypeError("data must be bytes-like, not str (encode it first)")
        if self._handle is None:
            raise RaftError(
                ErrorCode.INVALID, "the snapshot writer outlived its save_snapshot call"
            )
        payload = data if type(data) is bytes else bytes(memoryview(data))
        rc = lib.raft_snapshot_write(self._handle, payload, len(payload))
        if rc != 0:
            raise RaftError(rc, "raft_snapshot_write")
        return len(payload)

    def _invalidate(self) -> None:
        self._handle = None


class SnapshotReader:
    """Where ``StateMachine.load_snapshot`` reads the snapshot's bytes from."""

    def __init__(self, handle: int) -> None:
        self._handle: Optional[int] = handle

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all the rest when negative); b"" at the end.

        Raises RaftError: CORRUPT when the bytes fail their checksum (reported at
        the end), IO on a storage failure, INVALID after the call returned.
        """
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"size must be an int, not {type(size).__name__}")
        if size >= 0:
            return self._read_some(size)
        parts: List[bytes] = []
        while True:
            part = self._read_some(_READ_ALL_STEP)
            if not part:
                return b"".join(parts)
            parts.append(part)

    def _read_some(self, cap: int) -> bytes:
        if self._handle is None:
            raise RaftError(
                ErrorCode.INVALID, "the snapshot reader outlived its load_snapshot call"
            )
        buf = ctypes.create_string_buffer(cap)
        got = lib.raft_snapshot_read(self._handle, buf, cap)
        if got < 0:
            raise RaftError(got, "raft_snapshot_read")
        return buf.raw[:got]

    def _invalidate(self) -> None:
        self._handle = None
