"""Replicas driven by run() on their own threads, with real clocks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

import raft
from raft import TransitionState as TS
from support import CLUSTER_ID, Network, Recorder

FAST = {"heartbeat_ms": 20, "election_timeout_ms": (150, 300)}


class Runner:
    """run() on a thread; keeps what it raised."""

    def __init__(self, replica: raft.Replica) -> None:
        self.replica = replica
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            self.replica.run()
        except BaseException as e:  # handed to the test thread
            self.error = e


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def threaded_cluster(n: int = 3, **options: object):  # type: ignore[no-untyped-def]
    ids = list(range(1, n + 1))
    net = Network(ids)
    machines = {i: Recorder() for i in ids}
    replicas = {
        i: raft.Replica(
            i,
            [p for p in ids if p != i],
            machines[i],
            net.endpoint(i),
            cluster_id=CLUSTER_ID,
            **{**FAST, **options},  # type: ignore[arg-type]
        )
        for i in ids
    }
    net.replicas.update(replicas)  # deliveries wake the destination's run()
    return net, machines, replicas


def current_leader(replicas: Dict[int, raft.Replica]) -> Optional[int]:
    leaders = [i for i, r in replicas.items() if r.status().role == raft.Role.LEADER]
    return leaders[0] if len(leaders) == 1 else None


def replicate_on_threads(count: int, **options: object) -> None:
    """Three replicas on run() threads apply `count` transitions, the same on each."""
    net, machines, replicas = threaded_cluster(**options)  # type: ignore[arg-type]
    runners = [Runner(r) for r in replicas.values()]
    try:
        wait_for(lambda: current_leader(replicas) is not None, 10, "a leader")
        # payload -> the id it is currently proposed under.  A proposal that a leadership
        # change abandons is proposed again under a new id, as a client would.
        outstanding: Dict[bytes, int] = {}
        next_id = 1

        def propose(data: bytes) -> None:
            nonlocal next_id
            while True:
                leader = current_leader(replicas)
                try:
                    if leader is not None:
                        replicas[leader].propose(next_id, data)
                        outstanding[data] = next_id
                        next_id += 1
                        return
                except raft.RaftError as e:
                    if e.code not in (raft.ErrorCode.BUSY, raft.ErrorCode.NOT_LEADER):
                        raise
                time.sleep(0.001)

        for k in range(count):
            propose(b"t%d" % k)

        def settled() -> bool:
            for sm in machines.values():
                with sm.lock:
                    for data, tid in list(outstanding.items()):
                        if sm.states.get(tid, [])[-1:] in (
                            [TS.ABANDONED_NOT_LEADER],
                            [TS.ABANDONED_CONFLICT],
                        ):
                            propose(data)
            return all(len(sm.snapshot()) >= count for sm in machines.values())

        wait_for(settled, 30, f"{count} transitions applied on every replica")
        logs = [sm.snapshot() for sm in machines.values()]
        assert logs[0] == logs[1] == logs[2], "replicas applied different sequences"
        payloads = [data for _, data in logs[0]]
        assert sorted(payloads) == sorted(b"t%d" % k for k in range(count)), "lost or duplicated"
    finally:
        for r in replicas.values():
            r.close()  # stops run() on its thread and waits for it to return
    for runner in runners:
        runner.thread.join(5)
        assert not runner.thread.is_alive()
        assert runner.error is None, runner.error


def test_three_replicas_on_threads_replicate_1000_transitions() -> None:
    replicate_on_threads(1000)


def test_busy_poll_us_zero_runs_and_above_10000_is_refused() -> None:
    # 10001 is refused by the library (raft_node_create), so the value reaches raft_options.
    with pytest.raises(raft.RaftError) as info:
        raft.Replica(1, [], Recorder(), busy_poll_us=10001, **FAST)  # type: ignore[arg-type]
    assert info.value.code == raft.ErrorCode.INVALID and "busy_poll_us" in info.value.detail
    with pytest.raises(ValueError):
        raft.Replica(1, [], Recorder(), busy_poll_us=2**32)  # ctypes would truncate it to 0
    with pytest.raises(TypeError):
        raft.Replica(1, [], Recorder(), busy_poll_us="20")  # type: ignore[arg-type]
    # 0: run() sleeps as soon as a turn is done; replication over run() threads still works.
    replicate_on_threads(200, busy_poll_us=0)


def test_close_waits_for_run_on_another_thread() -> None:
    sm = Recorder()
    r = raft.Replica(1, [], sm, **FAST)
    runner = Runner(r)
    wait_for(lambda: r.status().role == raft.Role.LEADER, 5, "a single-node leader")
    r.propose(1, b"x")
    wait_for(lambda: len(sm.snapshot()) == 1, 5, "the apply")
    r.close()
    assert not runner.thread.is_alive(), "close() returned while run() was still inside"
    assert runner.error is None
    assert r.closed


def test_halt_makes_run_return() -> None:
    net = Network([1])
    endpoint = net.endpoint(1)
    with raft.Replica(1, [], Recorder(), endpoint, **FAST) as r:
        runner = Runner(r)
        time.sleep(0.05)
        endpoint.halted.set()
        r.notify()
        runner.thread.join(5)
        assert not runner.thread.is_alive() and runner.error is None
        r.poll()  # not stopped: the replica can be driven again


def test_exception_in_a_callback_ends_run_with_it() -> None:
    class Exploding(Recorder):
        def apply_transition(self, transition_id: int, data: bytes) -> None:
            raise KeyError(transition_id)

    with raft.Replica(1, [], Exploding(), **FAST) as r:
        runner = Runner(r)
        wait_for(lambda: r.status().role == raft.Role.LEADER, 5, "a single-node leader")
        r.propose(77, b"boom")
        runner.thread.join(5)
        assert isinstance(runner.error, KeyError) and runner.error.args == (77,)


def test_proposals_from_many_threads() -> None:
    sm = Recorder()
    with raft.Replica(1, [], sm, **FAST) as r:
        runner = Runner(r)
        wait_for(lambda: r.status().role == raft.Role.LEADER, 5, "a single-node leader")
        errors: List[BaseException] = []

        def client(base: int) -> None:
            try:
                for k in range(100):
                    r.propose(base + k, b"%d" % (base + k))
            except BaseException as e:
                errors.append(e)

        clients = [threading.Thread(target=client, args=(1000 * t,)) for t in range(1, 5)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        assert errors == []
        wait_for(lambda: len(sm.snapshot()) == 400, 10, "400 applies")
        ids = [k for k, _ in sm.snapshot()]
        assert sorted(ids) == sorted(1000 * t + k for t in range(1, 5) for k in range(100))
        for t in range(1, 5):  # each client's proposals keep their order
            mine = [k for k in ids if k // 1000 == t]
            assert mine == sorted(mine)
    runner.thread.join(5)
    assert runner.error is None


def test_a_second_driver_gets_busy() -> None:
    with raft.Replica(1, [], Recorder(), **FAST) as r:
        runner = Runner(r)
        wait_for(lambda: r.status().term > 0, 5, "the first election")
        with pytest.raises(raft.RaftError) as info:
            r.poll()
        assert info.value.code == raft.ErrorCode.BUSY
        assert runner.thread.is_alive(), "the BUSY call did not disturb the running loop"


CTRL_C = """
import os, signal, threading, time, raft

class Silent(raft.StateMachine, raft.Cluster):
    def apply_transition(self, transition_id, data): pass
    def send_message(self, to_id, message): pass
    def receive_messages(self): return []

node = Silent()
replica = raft.Replica(1, [2, 3], node, node)
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    replica.run()
except KeyboardInterrupt:
    print("interrupted")
assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
replica.close()
"""


def test_ctrl_c_ends_run_with_keyboard_interrupt() -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(raft.__file__).parents[1]))
    env["LIBRAFT_PATH"] = raft.library_path
    child = subprocess.run(
        [sys.executable, "-c", CTRL_C], env=env, capture_output=True, text=True, timeout=20
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["interrupted"]
    assert "Exception ignored" not in child.stderr
