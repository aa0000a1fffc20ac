"""The user's side of a replica, shaped like little_raft's StateMachine and Cluster traits.

Subclassing is optional: any object with these methods works (duck typing).  All
methods are called on the thread inside Replica.run() or Replica.poll().  An
exception raised by one of them never reaches the C library: it is kept and
re-raised by the run()/poll() call that made the callback.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

from ._types import TransitionState

Bytes = Union[bytes, bytearray, memoryview]


class StateMachine:
    """The replicated state machine.

    little_raft's ``get_pending_transitions`` has no counterpart: call
    ``Replica.propose`` (from any thread) instead.

    Snapshots are optional: a state machine that defines both of these methods
    (they are not defined here, so that their presence is the opt-in) lets the
    replica compact its log (``snapshot_interval=``) and install a leader's
    snapshot::

        def save_snapshot(self, writer: SnapshotWriter, index: int) -> Optional[int]:
            # every transition up to index applied, none after; writer.write(bytes)
            # any number of times.  Return None when done, or SNAPSHOT_MORE to be
            # called again (with a fresh writer on the same snapshot) in the next
            # turn: no apply happens in between.  Raising gives this snapshot up
            # (retried one interval later) and run()/poll() re-raise.

        def load_snapshot(self, reader: SnapshotReader, index: int) -> None:
            # replace the whole state with reader.read() (covers up to index).
            # Raising stops the replica.
    """

    def apply_transition(self, transition_id: int, data: bytes) -> None:
        """A committed transition, in the same log order on every replica.

        If it raises, the replica stops (its state machine has missed an entry)
        and run()/poll() re-raise the exception.
        """
        raise NotImplementedError

    def register_transition_state(
        self, transition_id: int, state: Union[TransitionState, int]
    ) -> None:
        """Progress of a transition proposed on this replica."""


class Cluster:
    """The transport to the other replicas."""

    def send_message(self, to_id: int, message: bytes) -> None:
        """Deliver ``message`` to replica ``to_id``, best effort and without blocking.

        Loss, duplication and reordering are tolerated.
        """
        raise NotImplementedError

    def receive_messages(self) -> Iterable[Bytes]:
        """Every message that arrived since the last call (never the same one twice).

        Must not block.  When messages arrive while the replica sleeps in run(),
        call Replica.notify() so that it comes to fetch them.
        """
        raise NotImplementedError

    def halt(self) -> bool:
        """Checked by run() after every turn; True makes run() return."""
        return False

    def register_leader(self, leader_id: Optional[int]) -> None:
        """The known leader changed; None when unknown."""
