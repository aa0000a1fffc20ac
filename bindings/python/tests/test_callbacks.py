"""Exceptions in callbacks, re-entrant calls from callbacks, and callback lifetimes."""

from __future__ import annotations

import gc
import weakref
from typing import List, Optional

import pytest

import raft
from raft import ErrorCode
from support import CLUSTER_ID, Recorder, SimCluster
from test_errors import lead, single


class Boom(Exception):
    pass


def test_exception_in_apply_is_reraised_and_stops_the_replica() -> None:
    class Failing(Recorder):
        def apply_transition(self, transition_id: int, data: bytes) -> None:
            if transition_id == 2:
                raise Boom("apply 2")
            super().apply_transition(transition_id, data)

    sm = Failing()
    with raft.Replica(1, [], sm, random_seed=1) as r:
        now = lead(r)
        for k in (1, 2, 3):
            r.propose(k, b"v")
        with pytest.raises(Boom, match="apply 2"):
            r.poll(now + 1)
        # The state machine missed entry 2: nothing after it is applied, and the node stops.
        assert sm.applied == [(1, b"v")]
        with pytest.raises(raft.RaftError) as info:
            r.poll(now + 2)
        assert info.value.code == ErrorCode.SHUTDOWN


def test_exception_in_send_is_reraised_and_the_replica_carries_on() -> None:
    with SimCluster(3, seed=3) as c:
        leader = c.wait_leader()
        c.step(100)
        endpoint = c.endpoints[leader]
        original = endpoint.send_message
        calls: List[int] = []

        def flaky(to_id: int, message: bytes) -> None:
            calls.append(to_id)
            if len(calls) == 1:
                raise Boom("send")
            original(to_id, message)

        endpoint.send_message = flaky  # type: ignore[method-assign]
        c.replicas[leader].propose(1, b"a")
        with pytest.raises(Boom):
            c.poll_now(leader)
        assert calls, "send was called"
        c.wait_applied(1)  # a lost message is only a lost message: the replica carries on
        assert len(calls) > 1


def test_exception_in_receive_is_reraised_instead_of_callback_error() -> None:
    with SimCluster(3, seed=4) as c:
        c.wait_leader()
        c.endpoints[1].receive_messages = lambda: (_ for _ in ()).throw(Boom("rx"))  # type: ignore
        c.net.send(2, 1, b"anything")
        with pytest.raises(Boom, match="rx"):
            c.poll_now(1)


def test_receive_returning_junk_is_a_type_error() -> None:
    with SimCluster(3, seed=4) as c:
        c.endpoints[1].receive_messages = lambda: [12]  # type: ignore[method-assign]
        with pytest.raises(TypeError):
            c.poll_now(1)


def test_garbage_messages_are_counted_not_fatal() -> None:
    with SimCluster(3, seed=6) as c:
        leader = c.wait_leader()
        follower = next(i for i in c.ids if i != leader)
        for junk in (b"", b"\x00" * 64, b"not a raft frame", bytearray(b"\xff" * 3)):
            c.net.send(leader, follower, junk)  # type: ignore[arg-type]
        c.step(10)
        assert c.replicas[follower].status().msgs_rejected == 4
        c.replicas[leader].propose(1, b"still fine")
        c.wait_applied(1)


def test_exception_in_transition_state_and_leader_hooks() -> None:
    class Grumpy(Recorder):
        def register_transition_state(self, transition_id: int, state: object) -> None:
            raise Boom(f"state {state.name}")  # type: ignore[attr-defined]

    sm = Grumpy()
    with raft.Replica(1, [], sm, random_seed=1) as r:
        now = lead(r)
        r.propose(9, b"z")
        with pytest.raises(Boom, match="QUEUED"):
            r.poll(now + 1)
        # Only the first exception of a turn is kept; apply still happened.
        r.poll(now + 2)
        assert sm.applied == [(9, b"z")]


def test_exception_in_log_sink_during_create_is_raised_by_the_constructor() -> None:
    def sink(level: object, line: str) -> None:
        raise Boom(line)

    # A valid replica logs nothing while being created: nothing to raise.
    with raft.Replica(1, [], Recorder(), log=sink, log_level=raft.LogLevel.WARN):
        pass
    lines: List[str] = []
    with pytest.raises(raft.RaftError):
        raft.Replica(0, [], Recorder(), log=lambda lvl, line: lines.append(line))
    assert lines == [], "create's failure is the exception, not a log line"


def test_log_sink_receives_warnings() -> None:
    lines: List[object] = []
    with raft.Replica(
        1, [2, 3], Recorder(), _Inbox([b"junk"]), log=lambda lvl, text: lines.append((lvl, text))
    ) as r:
        r.poll(1)
    assert lines and lines[0][0] == raft.LogLevel.WARN and "rejected" in str(lines[0][1])


class _Inbox(raft.Cluster):
    def __init__(self, messages: List[bytes]) -> None:
        self.messages = messages

    def send_message(self, to_id: int, message: bytes) -> None:
        pass

    def receive_messages(self) -> List[bytes]:
        out, self.messages = self.messages, []
        return out


def test_reentrant_calls_from_a_callback() -> None:
    seen: List[object] = []

    class Reentrant(Recorder):
        replica: Optional[raft.Replica] = None

        def apply_transition(self, transition_id: int, data: bytes) -> None:
            super().apply_transition(transition_id, data)
            r = self.replica
            assert r is not None
            for call in (lambda: r.poll(10**6), r.run, r.close):
                try:
                    call()
                except raft.RaftError as e:
                    seen.append(e.code)
            r.propose(transition_id + 100, b"from apply")  # allowed from any thread
            seen.append(r.status().applied_index)

    sm = Reentrant()
    with raft.Replica(1, [], sm, random_seed=1) as r:
        sm.replica = r
        now = lead(r)
        r.propose(1, b"a")
        r.poll(now + 1)
        r.poll(now + 2)
        assert not r.closed
    assert seen[:3] == [ErrorCode.BUSY] * 3
    assert [k for k, _ in sm.applied][:2] == [1, 101]


def test_callbacks_live_as_long_as_the_replica() -> None:
    sm = Recorder()
    sm_ref = weakref.ref(sm)
    r = raft.Replica(1, [], sm, random_seed=1, log=lambda lvl, text: None)
    del sm
    gc.collect()
    now = lead(r)
    r.propose(5, b"alive")
    r.poll(now + 1)
    alive = sm_ref()
    assert alive is not None and alive.applied == [(5, b"alive")]
    del alive
    r_ref = weakref.ref(r)
    del r  # never closed explicitly: the finalizer frees the node
    gc.collect()
    assert r_ref() is None and sm_ref() is None, "the replica and its callbacks were freed"


def test_messages_from_another_cluster_are_rejected() -> None:
    class Impostor(_Inbox):
        def __init__(self, net: object) -> None:
            super().__init__([])
            self.net = net

        def send_message(self, to_id: int, message: bytes) -> None:
            self.net.send(2, to_id, message)  # type: ignore[attr-defined]

    with SimCluster(3, seed=9) as c:
        leader = c.wait_leader()
        c.step(50)
        before = [c.replicas[i].status().msgs_rejected for i in c.ids]
        # Replica 2 of a cluster with another cluster_id campaigns into our network.
        with raft.Replica(
            2,
            [1, 3],
            Recorder(),
            Impostor(c.net),
            cluster_id=CLUSTER_ID + 1,
            random_seed=2,
            check_quorum=False,
        ) as impostor:
            now = 0
            while impostor.status().msgs_sent == 0:
                now = impostor.poll(now + 1)
                assert now < 10_000
        c.step(10)
        after = [c.replicas[i].status().msgs_rejected for i in c.ids]
        assert sum(after) > sum(before)
        assert c.leader() == leader, "the foreign campaign changed nothing"
