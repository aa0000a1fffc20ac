"""Snapshots: save/load methods on the state machine, compaction, restart from data_dir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

import raft
from support import Recorder, SimCluster


def encode(applied: List[Tuple[int, bytes]]) -> bytes:
    return json.dumps([[i, d.hex()] for i, d in applied]).encode()


def decode(blob: bytes) -> List[Tuple[int, bytes]]:
    return [(i, bytes.fromhex(d)) for i, d in json.loads(blob.decode())]


class Snapshotting(Recorder):
    """A Recorder whose whole history is its snapshot; records every save and load."""

    def __init__(self, steps: int = 1) -> None:
        super().__init__()
        self.steps = steps  # save_snapshot calls per snapshot (SNAPSHOT_MORE in between)
        self.saves: List[int] = []  # index of every completed save
        self.loads: List[Tuple[int, int]] = []  # (index, entries loaded)
        self.pending: Optional[bytes] = None
        self.applies_during_save = 0
        self.writers: List[raft.SnapshotWriter] = []

    def apply_transition(self, transition_id: int, data: bytes) -> None:
        if self.pending is not None:
            self.applies_during_save += 1
        super().apply_transition(transition_id, data)

    def save_snapshot(self, writer: raft.SnapshotWriter, index: int) -> Optional[int]:
        self.writers.append(writer)
        if self.pending is None:
            self.pending = encode(self.applied)
        part = -(-len(self.pending) // self.steps)
        writer.write(self.pending[:part])
        self.pending = self.pending[part:]
        if self.pending:
            return raft.SNAPSHOT_MORE
        self.pending = None
        self.saves.append(index)
        return None

    def load_snapshot(self, reader: raft.SnapshotReader, index: int) -> None:
        head = reader.read(5)  # a bounded read, then the rest
        self.applied = decode(head + reader.read())
        self.loads.append((index, len(self.applied)))


def test_a_cluster_takes_snapshots_and_keeps_applying() -> None:
    with SimCluster(
        3, seed=3, machine=Snapshotting, snapshot_interval=20, snapshot_trailing=5
    ) as c:
        leader = c.wait_leader()
        for k in range(1, 121):
            c.replicas[leader].propose(k, b"v%d" % k)
            if k % 10 == 0:
                c.step(5)
        c.wait_applied(120)
        c.step(200)
        expected = [(k, b"v%d" % k) for k in range(1, 121)]
        for i in c.ids:
            m = c.machines[i]
            assert m.applied == expected
            assert m.saves, f"replica {i} never saved a snapshot"
            status = c.replicas[i].status()
            assert 0 < status.snapshot_index <= status.applied_index
            assert status.snapshot_index == m.saves[-1]


def test_restart_from_data_dir_loads_the_snapshot(tmp_path: Path) -> None:
    def single(machine: Snapshotting) -> raft.Replica:
        return raft.Replica(
            1,
            [],
            machine,
            data_dir=tmp_path,
            snapshot_interval=20,
            snapshot_trailing=0,
            random_seed=9,
        )

    first = Snapshotting()
    with single(first) as r:
        now = 0
        while r.role != raft.Role.LEADER:
            now = max(r.poll(now + 1), now + 1)
        for k in range(1, 51):
            r.propose(k, b"%d" % k)
        for _ in range(50):
            now += 1
            r.poll(now)
        assert len(first.applied) == 50
        assert first.saves and r.status().snapshot_index == first.saves[-1]
    last = first.saves[-1]

    second = Snapshotting()
    with single(second) as r:
        # Loaded while the replica is created, before any apply.
        assert second.loads == [(last, last - 1)]  # the leader's no-op carries no transition
        now = 0
        while len(second.applied) < 50:
            now += 1
            r.poll(now)
            assert now < 5000, "the log after the snapshot was not replayed"
        assert second.applied == first.applied
        assert r.status().snapshot_index >= last


def test_a_save_in_steps_stops_apply_until_it_completes() -> None:
    with SimCluster(1, seed=4, machine=lambda: Snapshotting(steps=4), snapshot_interval=10) as c:
        leader = c.wait_leader()
        for k in range(1, 41):
            c.replicas[leader].propose(k, b"x")
            c.poll_now(leader)  # one turn per entry: saves overlap later entries
        c.wait_applied(40)
        c.step(20)
        m = c.machines[leader]
        assert len(m.saves) >= 2
        assert m.applies_during_save == 0
        # One call per step, and each call's writer is dead once it returned.
        assert len(m.writers) >= 4 * len(m.saves)
        with pytest.raises(raft.RaftError) as e:
            m.writers[0].write(b"late")
        assert e.value.code == raft.ErrorCode.INVALID


class FailingSave(Snapshotting):
    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    def save_snapshot(self, writer: raft.SnapshotWriter, index: int) -> Optional[int]:
        if self.fail:
            self.fail = False
            raise RuntimeError("disk full")
        return super().save_snapshot(writer, index)


def test_a_failing_save_is_reraised_and_retried() -> None:
    with SimCluster(1, seed=5, machine=FailingSave, snapshot_interval=10) as c:
        leader = c.wait_leader()
        m = c.machines[leader]
        raised = []
        for k in range(1, 61):
            c.replicas[leader].propose(k, b"y")
            try:
                c.poll_now(leader)
            except RuntimeError as e:
                raised.append((len(m.applied), str(e), c.replicas[leader].status().snapshot_index))
        # Raised once, from the poll that made the call (applied: the no-op and 9 transitions,
        # so index 10); nothing was saved then.
        assert raised == [(9, "disk full", 0)]
        c.step(100)
        assert [i for i, _ in m.applied] == list(range(1, 61))
        assert m.saves and c.replicas[leader].status().snapshot_index == m.saves[-1]


def test_save_without_load_is_refused() -> None:
    class HalfMachine(Recorder):
        def save_snapshot(self, writer: Any, index: int) -> None:
            pass

    with pytest.raises(TypeError, match="load_snapshot"):
        raft.Replica(1, [], HalfMachine())


def test_interval_without_snapshot_methods_is_invalid() -> None:
    with pytest.raises(raft.RaftError) as e:
        raft.Replica(1, [], Recorder(), snapshot_interval=10)
    assert e.value.code == raft.ErrorCode.INVALID
    assert "snapshot" in e.value.detail
