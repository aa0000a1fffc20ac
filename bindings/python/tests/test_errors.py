"""Errors: codes and details from the library, argument checks, closed and stopped replicas."""

from __future__ import annotations

import pytest

import raft
from raft import ErrorCode
from support import Recorder


def single(**options: object) -> raft.Replica:
    """A one-replica cluster that elects itself on its first timeout."""
    return raft.Replica(1, [], Recorder(), random_seed=1, **options)  # type: ignore[arg-type]


def lead(r: raft.Replica) -> int:
    now = 0
    while r.role != raft.Role.LEADER:
        now = r.poll(now + 1)
        assert now < 10_000
    return now


def test_error_carries_code_detail_and_description() -> None:
    with pytest.raises(raft.RaftError) as info:
        raft.Replica(0, [], Recorder())
    e = info.value
    assert e.code is ErrorCode.INVALID and e.code == -1
    assert "id" in e.detail
    assert str(e) == f"{e.detail}: {raft.strerror(-1)}"
    assert raft.strerror(-4) != raft.strerror(-5)
    assert isinstance(raft.RaftError(-99).code, int)  # a code newer than the binding stays an int


@pytest.mark.parametrize(
    "options,fragment",
    [
        ({"heartbeat_ms": 200, "election_timeout_ms": (150, 300)}, "heartbeat"),
        ({"election_timeout_ms": (300, 300)}, "election"),
        ({"max_entry_bytes": 0}, "max_entry_bytes"),
        ({"max_uncommitted_bytes": 0}, "max_uncommitted_bytes"),
    ],
)
def test_invalid_options_are_refused_with_the_reason(options: dict, fragment: str) -> None:
    with pytest.raises(raft.RaftError) as info:
        single(**options)
    assert info.value.code == ErrorCode.INVALID
    assert fragment in info.value.detail


def test_peers_need_a_cluster() -> None:
    with pytest.raises(raft.RaftError) as info:
        raft.Replica(1, [2, 3], Recorder())
    assert info.value.code == ErrorCode.INVALID and "send" in info.value.detail


def test_a_peer_list_naming_this_replica_is_refused() -> None:
    with pytest.raises(raft.RaftError) as info:
        raft.Replica(1, [1, 2], Recorder(), raft.Cluster())
    assert info.value.code == ErrorCode.INVALID


def test_python_side_argument_checks() -> None:
    with pytest.raises(TypeError):
        raft.Replica(1, [], object())  # no apply_transition
    with pytest.raises(ValueError):
        raft.Replica(-1, [], Recorder())
    with pytest.raises(ValueError):
        raft.Replica(1, [2**64], Recorder(), raft.Cluster())
    with pytest.raises(ValueError):
        single(heartbeat_ms=2**32)  # ctypes would have truncated this to 0
    with pytest.raises(ValueError):
        single(max_uncommitted_bytes=2**64)
    with pytest.raises(TypeError):
        single(max_inflight="8")
    with single() as r:
        with pytest.raises(TypeError):
            r.propose(1, "text")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            r.propose(1, 5)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            r.propose(-1, b"")
        with pytest.raises(ValueError):
            r.poll(-5)


def test_too_big_and_busy_proposals() -> None:
    with single(max_entry_bytes=16, max_queue_bytes=1024) as r:
        lead(r)
        r.propose(1, b"x" * 16)
        r.propose(2, bytearray(b"y"))  # any bytes-like object
        r.propose(3, memoryview(b"zz"))
        with pytest.raises(raft.RaftError) as info:
            r.propose(4, b"x" * 17)
        assert info.value.code == ErrorCode.TOO_BIG and "max_entry_bytes" in info.value.detail
        with pytest.raises(raft.RaftError) as info:
            for k in range(10, 10_000):
                r.propose(k, b"q")
        assert info.value.code == ErrorCode.BUSY
        assert r.status().proposals_queued > 3
        r.poll()  # the loop drains the queue: proposing works again
        r.propose(20_000, b"again")


def test_too_much_uncommitted_is_busy_until_it_commits() -> None:
    sm = Recorder()
    with raft.Replica(1, [], sm, random_seed=1, max_uncommitted_bytes=64) as r:
        now = lead(r)
        r.propose(1, b"x" * 100)  # over the limit, but nothing was uncommitted: admitted
        for call in (lambda: r.propose(2, b"y"), lambda: r.propose_batch([(2, b"y")])):
            with pytest.raises(raft.RaftError) as info:
                call()
            assert info.value.code == ErrorCode.BUSY
            assert "max_uncommitted_bytes" in info.value.detail
        r.poll(now + 1)  # a single replica commits at once: nothing is uncommitted after it
        assert sm.applied == [(1, b"x" * 100)]
        # (20 + 24) + (20 + 24) bytes would pass 64: a short batch, the rest goes later.
        assert r.propose_batch([(3, b"a" * 20), (4, b"b" * 20)]) == 1
        r.poll(now + 2)
        r.propose(4, b"b" * 20)
        r.poll(now + 3)
    assert sm.applied == [(1, b"x" * 100), (3, b"a" * 20), (4, b"b" * 20)]


def test_a_batch_is_applied_in_order() -> None:
    sm = Recorder()
    with raft.Replica(1, [], sm, random_seed=1) as r:
        now = lead(r)
        assert r.propose_batch([]) == 0
        items = [(1, b"one"), (2, bytearray(b"a\0b")), (3, b""), (4, memoryview(b"four"))]
        assert r.propose_batch(items) == 4
        r.propose(5, b"single")  # interleaves in call order
        assert r.propose_batch((k, b"g%d" % k) for k in range(6, 50)) == 44  # any iterable
        for t in range(now + 1, now + 20):
            r.poll(t)
    want = [(1, b"one"), (2, b"a\0b"), (3, b""), (4, b"four"), (5, b"single")]
    want += [(k, b"g%d" % k) for k in range(6, 50)]
    assert sm.applied == want
    states = raft.TransitionState
    full = [states.QUEUED, states.COMMITTED, states.APPLIED]
    assert sorted(sm.states) == list(range(1, 50))
    assert all(s == full for s in sm.states.values())


def test_a_full_queue_gives_a_short_batch_and_the_rest_goes_later() -> None:
    sm = Recorder()
    with raft.Replica(1, [], sm, random_seed=1, max_queue_bytes=512) as r:
        now = lead(r)
        items = [(k, b"p%d............" % k) for k in range(100, 200)]  # 16 bytes each
        first = r.propose_batch(items)
        assert 0 < first < len(items)
        with pytest.raises(raft.RaftError) as info:  # nothing fits: BUSY, as propose() raises
            r.propose_batch(items[first:])
        assert info.value.code == ErrorCode.BUSY
        done = first
        while done < len(items):
            now += 1
            r.poll(now)  # the loop drains the queue
            done += r.propose_batch(items[done:])
            assert now < 10_000
        for t in range(now + 1, now + 20):
            r.poll(t)
    assert sm.applied == items  # each once, in order


def test_a_batch_raises_only_when_nothing_was_queued() -> None:
    sm = Recorder()
    with raft.Replica(1, [], sm, random_seed=1, max_entry_bytes=8) as r:
        now = lead(r)
        items = [(1, b"ok"), (2, b"123456789"), (3, b"later")]
        assert r.propose_batch(items) == 1  # stopped at the one too big, no exception
        with pytest.raises(raft.RaftError) as info:  # leading its batch, it raises
            r.propose_batch(items[1:])
        assert info.value.code == ErrorCode.TOO_BIG and "max_entry_bytes" in info.value.detail
        assert r.propose_batch(items[2:]) == 1
        # Bad arguments are refused before anything is queued.
        for bad in ([(4, b"x"), (5, "text")], [(4, b"x"), (-1, b"")], [(4, b"x"), 5], [(4,)]):
            with pytest.raises((TypeError, ValueError)):
                r.propose_batch(bad)  # type: ignore[arg-type]
        for t in range(now + 1, now + 20):
            r.poll(t)
        assert sm.applied == [(1, b"ok"), (3, b"later")]
        r.stop()
        with pytest.raises(raft.RaftError) as info:
            r.propose_batch(items)
        assert info.value.code == ErrorCode.SHUTDOWN
    with pytest.raises(raft.RaftError) as info:
        r.propose_batch(items)
    assert info.value.code == ErrorCode.INVALID and "closed" in info.value.detail


def test_stopped_replica_refuses_work() -> None:
    with single() as r:
        r.stop()
        r.stop()  # idempotent
        for call in (lambda: r.poll(1), r.run, lambda: r.propose(1, b"")):
            with pytest.raises(raft.RaftError) as info:
                call()
            assert info.value.code == ErrorCode.SHUTDOWN
        assert r.status().id == 1  # status still works


def test_closed_replica_refuses_work() -> None:
    r = single()
    r.close()
    r.close()  # idempotent
    assert r.closed
    r.notify()  # harmless no-ops
    r.stop()
    for call in (lambda: r.poll(1), r.run, lambda: r.propose(1, b""), r.status):
        with pytest.raises(raft.RaftError) as info:
            call()
        assert info.value.code == ErrorCode.INVALID and "closed" in info.value.detail


def test_data_dir_keeps_the_log(tmp_path: object) -> None:
    sm = Recorder()
    with raft.Replica(1, [], sm, random_seed=1, data_dir=str(tmp_path)) as r:
        now = lead(r)
        r.propose(7, b"kept")
        r.poll(now + 1)
    assert sm.applied == [(7, b"kept")]
    again = Recorder()
    with raft.Replica(1, [], again, random_seed=1, data_dir=str(tmp_path)) as r:
        now = lead(r)  # the entry of the old term commits under the new one
        for t in range(now + 1, now + 20):
            r.poll(t)
        assert r.status().term == 2
    assert again.applied == [(7, b"kept")]
