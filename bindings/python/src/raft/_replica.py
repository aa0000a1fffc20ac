"""Replica: one Raft replica over a raft_node."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time
import weakref
from ctypes import c_size_t, c_uint64, c_void_p
from typing import Any, Iterable, Iterator, List, Optional, Tuple, Union

from . import _native
from ._callbacks import Context, LogSink, logging_sink
from ._interfaces import Bytes
from ._native import lib
from ._types import NO_ID, ErrorCode, LogLevel, RaftError, Role, Status, to_enum

_U32 = 2**32 - 1
_U64 = 2**64 - 1


def _uint(name: str, value: Any, limit: int) -> int:
    # ctypes would silently truncate an out-of-range value; refuse it instead.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= limit:
        raise ValueError(f"{name} must be in [0, {limit}], got {value}")
    return value


def _payload(data: Any) -> bytes:
    if isinstance(data, str):
        raise TypeError("data must be bytes-like, not str (encode it first)")
    return data if type(data) is bytes else bytes(memoryview(data))


@contextlib.contextmanager
def _sigint_deferred(context: Context) -> Iterator[None]:
    """Turn Ctrl-C into a pending KeyboardInterrupt while C drives the node.

    Python raises KeyboardInterrupt wherever the main thread happens to run Python
    code, which inside run()/poll() is a callback, possibly before its try block:
    ctypes would then print the exception, return a made-up result and carry on
    (an apply silently lost).  Instead the handler only records the interrupt;
    halt() then ends run() and the interrupt is raised from run()/poll().  A handler
    of the user's own is left alone.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def record(signum: int, frame: Any) -> None:
        context.keep(KeyboardInterrupt())

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _destroy(node: int, context: Context) -> None:
    # `context` is an argument only to keep the callbacks alive as long as the node.
    del context
    lib.raft_node_destroy(node)


class Replica:
    """One Raft replica (little_raft's ``Replica``).

    ``Replica(1, [2, 3], state_machine, cluster)`` creates replica 1 of a
    three-replica cluster.  Options left as None take the library's defaults.
    Drive it with ``run()`` on a thread of its own, or call ``poll()`` from an
    event loop; any thread may ``propose``, ``propose_batch``, ``notify``, ``stop``
    and ``status``.
    ``close()`` (or leaving a ``with`` block) stops the replica, waits for the
    thread inside run()/poll() to return, and frees the node.

    Errors raise RaftError; wrong argument types or ranges raise TypeError or
    ValueError before reaching the library.
    """

    def __init__(
        self,
        id: int,
        peers: Iterable[int],
        state_machine: Any,
        cluster: Any = None,
        *,
        heartbeat_ms: Optional[int] = None,
        election_timeout_ms: Optional[Tuple[int, int]] = None,
        cluster_id: Optional[int] = None,
        random_seed: Optional[int] = None,
        pre_vote: Optional[bool] = None,
        check_quorum: Optional[bool] = None,
        max_batch_bytes: Optional[int] = None,
        max_inflight: Optional[int] = None,
        max_entry_bytes: Optional[int] = None,
        max_queue_bytes: Optional[int] = None,
        log_level: Optional[LogLevel] = None,
        snapshot_interval: Optional[int] = None,
        snapshot_trailing: Optional[int] = None,
        max_snapshot_chunk_bytes: Optional[int] = None,
        busy_poll_us: Optional[int] = None,
        max_uncommitted_bytes: Optional[int] = None,
        data_dir: Union[str, "os.PathLike[str]", None] = None,
        log: Optional[LogSink] = None,
    ) -> None:
        if not callable(getattr(state_machine, "apply_transition", None)):
            raise TypeError("state_machine needs an apply_transition(id, data) method")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # signalled when the driver leaves
        self._driver: Optional[int] = None  # ident of the thread inside run()/poll()
        self._node: Optional[int] = None
        self._id = _uint("id", id, _U64)

        opt = _native.raft_options()
        lib.raft_options_init(ctypes.byref(opt))
        opt.id = self._id
        peer_list = [_uint("peer id", p, _U64) for p in peers]
        peer_array = (_native.raft_id * max(len(peer_list), 1))(*peer_list)
        opt.peers = ctypes.cast(peer_array, ctypes.POINTER(_native.raft_id))
        opt.n_peers = len(peer_list)
        for name, value, limit in [
            ("heartbeat_ms", heartbeat_ms, _U32),
            ("cluster_id", cluster_id, _U64),
            ("random_seed", random_seed, _U64),
            ("max_batch_bytes", max_batch_bytes, _U32),
            ("max_inflight", max_inflight, _U32),
            ("max_entry_bytes", max_entry_bytes, _U32),
            ("max_queue_bytes", max_queue_bytes, _U64),
            ("log_level", log_level, _U32),
            ("snapshot_interval", snapshot_interval, _U64),
            ("snapshot_trailing", snapshot_trailing, _U64),
            ("max_snapshot_chunk_bytes", max_snapshot_chunk_bytes, _U32),
            ("busy_poll_us", busy_poll_us, _U32),
            ("max_uncommitted_bytes", max_uncommitted_bytes, _U64),
        ]:
            if value is not None:
                setattr(opt, name, _uint(name, int(value) if name == "log_level" else value, limit))
        if election_timeout_ms is not None:
            low, high = election_timeout_ms
            opt.election_timeout_min_ms = _uint("election_timeout_ms[0]", low, _U32)
            opt.election_timeout_max_ms = _uint("election_timeout_ms[1]", high, _U32)
        if pre_vote is not None:
            opt.pre_vote = 1 if pre_vote else 0
        if check_quorum is not None:
            opt.check_quorum = 1 if check_quorum else 0
        if data_dir is not None:
            opt.data_dir = os.fsencode(data_dir)

        context = Context(state_machine, cluster, log or logging_sink(self._id))
        node = c_void_p()
        context.creating = True
        rc = lib.raft_node_create(ctypes.byref(node), ctypes.byref(opt), context.table, None)
        context.creating = False
        if rc == 0 and node.value is not None:
            context.node = node.value
            context.created()
            # The finalizer, not __del__, owns the node: it runs once, even for a replica
            # caught in a reference cycle, and holds the callbacks alive until the end.
            self._finalizer = weakref.finalize(self, _destroy, node.value, context)
            self._finalizer.atexit = False  # at exit a daemon thread may still be inside run()
            self._node = node.value
        self._context = context
        pending = context.take_pending()
        if pending is not None:
            self.close()
            raise pending
        if rc != 0:
            raise RaftError(rc, context.create_error)

    # -- the driving thread -------------------------------------------------

    def run(self) -> None:
        """Drive the replica on this thread until Cluster.halt() is true or stop() is called.

        Sleeps between turns; call notify() when messages arrive.  Re-raises the
        first exception a callback raised.
        """
        self._drive(lambda node: lib.raft_node_run(node))

    def poll(self, now_ms: Optional[int] = None) -> int:
        """One turn, for event loops.  Returns the time (same clock) to poll again at the latest.

        ``now_ms`` is a monotonic millisecond clock that never goes back; the default is
        ``time.monotonic()``.  Poll sooner when a message arrives.  Re-raises the first
        exception a callback raised.
        """
        now = int(time.monotonic() * 1000) if now_ms is None else _uint("now_ms", now_ms, _U64)
        deadline = c_uint64(0)
        self._drive(lambda node: lib.raft_node_poll(node, now, ctypes.byref(deadline)))
        return deadline.value

    def _drive(self, call: Any) -> None:
        # One driver at a time, enforced here as well as in C: the pending exception
        # then always belongs to this call, whichever thread raised it.
        me = threading.get_ident()
        with self._lock:
            node = self._checked_node()
            if self._driver is not None:
                where = (
                    "from inside a callback"
                    if self._driver == me
                    else "while another thread drives"
                )
                raise RaftError(ErrorCode.BUSY, f"run()/poll() called {where}")
            self._driver = me
        try:
            with _sigint_deferred(self._context):
                rc = call(node)
                # Read the detail before close() can free the node.
                detail = "" if rc == 0 else self._errmsg(node)
            # After the handler is restored: a Ctrl-C in between is in pending too.
            pending = self._context.take_pending()
        finally:
            with self._lock:
                self._driver = None
                self._idle.notify_all()
        if pending is not None:
            raise pending
        if rc != 0:
            raise RaftError(rc, detail)

    # -- any thread ---------------------------------------------------------

    def propose(self, transition_id: int, data: Bytes = b"") -> None:
        """Queue a transition (the bytes are copied).  Any thread.

        Its progress is reported to StateMachine.register_transition_state.  Raises
        RaftError: BUSY when the queue is full (retry after the loop has run),
        TOO_BIG, SHUTDOWN.
        """
        transition_id = _uint("transition_id", transition_id, _U64)
        payload = _payload(data)
        with self._lock:
            node = self._checked_node()
            rc = lib.raft_node_propose(node, transition_id, payload, len(payload))
            if rc != 0:
                raise RaftError(rc, self._errmsg(node))

    def propose_batch(self, items: Iterable[Tuple[int, Bytes]]) -> int:
        """Queue ``(transition_id, data)`` pairs in order, as propose() would one by one,
        under one lock of the node.  Any thread.

        Returns how many were queued: a prefix, up to the first that could not be.  A
        short count raises nothing: resubmit the rest (after the loop has run when the
        queue was full); a transition that cannot be queued at all then raises, as the
        first of its batch.  Raises RaftError as propose() does (BUSY, TOO_BIG, SHUTDOWN)
        only when nothing was queued.  Every pair is checked (TypeError, ValueError)
        before any is queued.
        """
        checked: List[Tuple[int, bytes]] = []
        for k, item in enumerate(items):
            try:
                transition_id, data = item
            except (TypeError, ValueError):
                raise TypeError(f"items[{k}] must be a (transition_id, data) pair") from None
            checked.append(
                (_uint(f"items[{k}] transition_id", transition_id, _U64), _payload(data))
            )
        array = (_native.raft_proposal * len(checked))()
        for slot, (transition_id, payload) in zip(array, checked):
            slot.id = transition_id
            slot.data = payload  # kept alive by `checked` (and the array) during the call
            slot.len = len(payload)
        queued = c_size_t(0)
        with self._lock:
            node = self._checked_node()
            rc = lib.raft_node_propose_batch(node, array, len(checked), ctypes.byref(queued))
            if rc != 0 and queued.value == 0:
                raise RaftError(rc, self._errmsg(node))
        return queued.value

    def notify(self) -> None:
        """Messages may be waiting: wake run().  Any thread; does nothing once closed."""
        with self._lock:
            if self._node is not None:
                lib.raft_node_notify(self._node)

    def stop(self) -> None:
        """Make run() return; later run/poll/propose raise SHUTDOWN.  Idempotent, any thread."""
        with self._lock:
            if self._node is not None:
                lib.raft_node_stop(self._node)

    def status(self) -> Status:
        """The state as of the end of the last turn.  Any thread."""
        st = _native.raft_status()
        lib.raft_status_init(ctypes.byref(st))
        with self._lock:
            node = self._checked_node()
            rc = lib.raft_node_status(node, ctypes.byref(st))
            if rc != 0:
                raise RaftError(rc, self._errmsg(node))
        return Status(
            id=st.id,
            role=to_enum(Role, st.role),
            term=st.term,
            leader=None if st.leader == NO_ID else st.leader,
            commit_index=st.commit_index,
            applied_index=st.applied_index,
            last_index=st.last_index,
            snapshot_index=st.snapshot_index,
            msgs_sent=st.msgs_sent,
            msgs_received=st.msgs_received,
            msgs_rejected=st.msgs_rejected,
            elections_started=st.elections_started,
            proposals_queued=st.proposals_queued,
        )

    @property
    def id(self) -> int:
        return self._id

    @property
    def role(self) -> Union[Role, int]:
        return self.status().role

    @property
    def leader(self) -> Optional[int]:
        return self.status().leader

    @property
    def closed(self) -> bool:
        return self._node is None

    # -- lifetime -----------------------------------------------------------

    def close(self) -> None:
        """Stop the replica, wait for run()/poll() on other threads to return, free the node.

        Idempotent.  Raises RaftError(BUSY) when called from one of this replica's own
        callbacks (the node cannot be freed under its own feet).
        """
        with self._lock:
            if self._node is None:
                return
            if self._driver == threading.get_ident():
                raise RaftError(ErrorCode.BUSY, "close() called from inside a callback")
            lib.raft_node_stop(self._node)
            while self._driver is not None:
                self._idle.wait()
            self._node = None
        self._finalizer()

    def __enter__(self) -> "Replica":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<raft.Replica id={self._id}{' closed' if self.closed else ''}>"

    # -- helpers ------------------------------------------------------------

    def _checked_node(self) -> int:
        if self._node is None:
            raise RaftError(ErrorCode.INVALID, "the replica is closed")
        return self._node

    @staticmethod
    def _errmsg(node: int) -> str:
        text: bytes = lib.raft_node_errmsg(node)
        return text.decode("utf-8", "replace")
