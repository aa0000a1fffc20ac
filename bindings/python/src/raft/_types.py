"""Enums, the error type and the status record: plain Python mirrors of raft.h."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional, Type, TypeVar, Union

from ._native import lib

#: raft.h's RAFT_NO_ID: "no replica" (ids are chosen by the user and never 0).
NO_ID = 0


class Role(enum.IntEnum):
    """A replica's role (raft_role)."""

    FOLLOWER = 1
    PRE_CANDIDATE = 2
    CANDIDATE = 3
    LEADER = 4


class TransitionState(enum.IntEnum):
    """Progress of a transition proposed on this replica (raft_transition_state).

    little_raft's ``Abandoned(NotLeader)`` and ``Abandoned(ConflictWithLeader)`` are
    ABANDONED_NOT_LEADER and ABANDONED_CONFLICT; ``abandoned`` is true for both.
    """

    QUEUED = 1
    COMMITTED = 2
    APPLIED = 3
    ABANDONED_NOT_LEADER = 4
    ABANDONED_CONFLICT = 5
    #: The replica's log was replaced by a leader's snapshot before this transition's
    #: position was decided here: ask the state machine whether it is in it.
    UNKNOWN = 6

    @property
    def abandoned(self) -> bool:
        return self in (TransitionState.ABANDONED_NOT_LEADER, TransitionState.ABANDONED_CONFLICT)


class LogLevel(enum.IntEnum):
    """Diagnostic levels (raft_log_level); lower is more severe."""

    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


class ErrorCode(enum.IntEnum):
    """The RAFT_E* codes, with their C values."""

    INVALID = -1
    NO_MEMORY = -2
    NOT_LEADER = -3
    BUSY = -4
    SHUTDOWN = -5
    IO = -6
    CORRUPT = -7
    TOO_BIG = -8
    CALLBACK = -9
    VERSION = -10
    INTERNAL = -11
    NOT_SUPPORTED = -12


E = TypeVar("E", bound=enum.IntEnum)


def to_enum(kind: Type[E], value: int) -> Union[E, int]:
    """The enum member, or the plain int for a value newer than this binding."""
    try:
        return kind(value)
    except ValueError:
        return value


def strerror(code: int) -> str:
    """raft_strerror(): a short English description of a code."""
    text: bytes = lib.raft_strerror(code)
    return text.decode("utf-8", "replace")


class RaftError(Exception):
    """A libraft call failed.

    ``code`` is an ErrorCode (or a plain int for a code newer than this binding),
    ``detail`` the library's explanation (raft_node_errmsg), possibly empty.
    """

    def __init__(self, code: int, detail: str = "") -> None:
        self.code: Union[ErrorCode, int] = to_enum(ErrorCode, code)
        self.detail = detail
        text = strerror(code)
        super().__init__(f"{detail}: {text}" if detail else text)


@dataclass(frozen=True)
class Status:
    """A replica's state as of the end of its last turn (raft_status)."""

    id: int
    role: Union[Role, int]
    term: int
    leader: Optional[int]  # None when unknown
    commit_index: int
    applied_index: int
    last_index: int
    snapshot_index: int
    msgs_sent: int
    msgs_received: int
    msgs_rejected: int
    elections_started: int
    proposals_queued: int
