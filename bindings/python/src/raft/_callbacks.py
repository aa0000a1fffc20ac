"""The C callback table of one replica, and the trampolines that call into Python.

Every trampoline catches BaseException: an exception escaping a ctypes callback
would only be printed, and the library would carry on with a made-up result.
The first one is kept in Context.pending for run()/poll() to re-raise.
"""

from __future__ import annotations

import ctypes
import logging
from collections import deque
from ctypes import c_char_p, c_void_p
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, Union

from . import _native
from ._native import lib
from ._snapshot import SNAPSHOT_MORE, SnapshotReader, SnapshotWriter
from ._types import NO_ID, ErrorCode, LogLevel, TransitionState, to_enum

LogSink = Callable[[Union[LogLevel, int], str], None]

_LOGGER = logging.getLogger("raft")
_PY_LEVELS: Dict[int, int] = {
    LogLevel.ERROR: logging.ERROR,
    LogLevel.WARN: logging.WARNING,
    LogLevel.INFO: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
}


def logging_sink(replica_id: int) -> LogSink:
    """The default log sink: the standard ``logging`` module, logger "raft"."""

    def sink(level: Union[LogLevel, int], line: str) -> None:
        _LOGGER.log(_PY_LEVELS.get(level, logging.DEBUG), "[replica %d] %s", replica_id, line)

    return sink


def snapshot_methods(state_machine: Any) -> bool:
    """Whether the state machine takes part in snapshots (both methods, or neither)."""
    save = callable(getattr(state_machine, "save_snapshot", None))
    load = callable(getattr(state_machine, "load_snapshot", None))
    if save != load:
        raise TypeError("state_machine needs both save_snapshot and load_snapshot, or neither")
    return save


def _as_bytes(message: Any) -> bytes:
    # memoryview() refuses ints and str, which bytes() would turn into zeros or need an encoding.
    return message if type(message) is bytes else bytes(memoryview(message))


class Context:
    """What the trampolines of one replica share.  Touched only by the driving thread."""

    def __init__(self, state_machine: Any, cluster: Any, log: LogSink) -> None:
        self.state_machine = state_machine
        self.cluster = cluster
        self.log = log
        self.node: Optional[int] = None
        self.pending: Optional[BaseException] = None
        self.poisoned = False  # apply raised: this state machine has a hole
        self.inbox: Deque[Any] = deque()
        self.current: Optional[c_char_p] = None  # the buffer the last receive handed to C
        self.creating = False
        self.create_error = ""
        self.create_error_level = 0
        self.create_lines: List[Any] = []  # held back until create succeeds
        self.table = _native.raft_callbacks()
        self.functions: List[Any] = []  # ctypes function objects: C holds pointers to them
        self._fill_table()

    def keep(self, exc: BaseException) -> None:
        if self.pending is None:
            self.pending = exc

    def created(self) -> None:
        """raft_node_create succeeded: pass on what it logged."""
        self.creating = False
        lines, self.create_lines = self.create_lines, []
        for level, text in lines:
            try:
                self.log(to_enum(LogLevel, level), text)
            except BaseException as e:
                self.keep(e)

    def take_pending(self) -> Optional[BaseException]:
        exc, self.pending = self.pending, None
        return exc

    # -- trampolines (called by C) -----------------------------------------

    def _apply(self, transition_id: int, data: Optional[int], size: int, _user: Any) -> None:
        # Building on a state machine that already missed an entry would only hide the bug.
        if self.poisoned:
            return
        try:
            payload = ctypes.string_at(data, size) if size and data is not None else b""
            self.state_machine.apply_transition(transition_id, payload)
        except BaseException as e:
            self.keep(e)
            self.poisoned = True
            lib.raft_node_stop(self.node)  # later calls fail with SHUTDOWN, on every thread

    def _transition_state(self, transition_id: int, state: int, _user: Any) -> None:
        try:
            self.state_machine.register_transition_state(
                transition_id, to_enum(TransitionState, state)
            )
        except BaseException as e:
            self.keep(e)

    def _send(self, to_id: int, msg: Optional[int], size: int, _user: Any) -> None:
        try:
            self.cluster.send_message(
                to_id, ctypes.string_at(msg, size) if size and msg is not None else b""
            )
        except BaseException as e:
            self.keep(e)

    def _receive(self, msg_out: Any, size_out: Any, _user: Any) -> int:
        try:
            if not self.inbox:
                self.inbox.extend(self.cluster.receive_messages() or ())
            if not self.inbox:
                self.current = None
                return 0
            message = _as_bytes(self.inbox.popleft())
            # c_char_p points into the bytes object without copying and keeps it alive
            # until the next receive: exactly the lifetime raft.h asks for.
            self.current = c_char_p(message)
            msg_out[0] = ctypes.cast(self.current, c_void_p).value
            size_out[0] = len(message)
            return 1
        except BaseException as e:
            self.keep(e)
            return -1  # poll fails with CALLBACK; run()/poll() re-raise e instead

    def _halt(self, _user: Any) -> int:
        if self.pending is not None:
            return 1  # let run() return so that the exception is re-raised promptly
        if self.cluster is None:
            return 0
        try:
            return 1 if self.cluster.halt() else 0
        except BaseException as e:
            self.keep(e)
            return 1

    def _leader(self, leader_id: int, _user: Any) -> None:
        try:
            self.cluster.register_leader(None if leader_id == NO_ID else leader_id)
        except BaseException as e:
            self.keep(e)

    def _log(self, level: int, line: Optional[bytes], _user: Any) -> None:
        try:
            text = (line or b"").decode("utf-8", "replace")
            if self.creating:
                # raft_node_create reports why it failed only through log: the most severe
                # line becomes the exception's detail, and is not logged a second time.
                if not self.create_error or level < self.create_error_level:
                    self.create_error, self.create_error_level = text, level
                self.create_lines.append((level, text))
                return
            self.log(to_enum(LogLevel, level), text)
        except BaseException as e:
            self.keep(e)

    def _snapshot_save(self, writer: Optional[int], index: int, _user: Any) -> int:
        stream = SnapshotWriter(writer or 0)
        try:
            more = self.state_machine.save_snapshot(stream, index)
            return SNAPSHOT_MORE if more == SNAPSHOT_MORE else 0
        except BaseException as e:
            # The library gives this snapshot up and tries again one interval later;
            # run()/poll() re-raise e so that the failure is not silent.
            self.keep(e)
            return int(ErrorCode.CALLBACK)
        finally:
            stream._invalidate()

    def _snapshot_load(self, reader: Optional[int], index: int, _user: Any) -> int:
        stream = SnapshotReader(reader or 0)
        try:
            self.state_machine.load_snapshot(stream, index)
            return 0
        except BaseException as e:
            # The library stops the node: the state machine is in an unknown state.
            self.keep(e)
            self.poisoned = True
            return int(ErrorCode.CALLBACK)
        finally:
            stream._invalidate()

    def _fill_table(self) -> None:
        lib.raft_callbacks_init(ctypes.byref(self.table))
        slots: List[Tuple[str, Any, Callable[..., Any]]] = [
            ("apply", _native.APPLY_FN, self._apply),
            ("transition_state", _native.TRANSITION_STATE_FN, self._transition_state),
            ("halt", _native.HALT_FN, self._halt),  # always: a pending exception stops run()
            ("log", _native.LOG_FN, self._log),  # always: it carries create's failure reason
        ]
        if snapshot_methods(self.state_machine):
            slots += [
                ("snapshot_save", _native.SNAPSHOT_SAVE_FN, self._snapshot_save),
                ("snapshot_load", _native.SNAPSHOT_LOAD_FN, self._snapshot_load),
            ]
        if self.cluster is not None:
            slots += [
                ("send", _native.SEND_FN, self._send),
                ("receive", _native.RECEIVE_FN, self._receive),
                ("leader", _native.LEADER_FN, self._leader),
            ]
        for name, prototype, method in slots:
            function = prototype(method)
            self.functions.append(function)
            setattr(self.table, name, function)
