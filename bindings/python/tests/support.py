"""An in-memory network and recording state machines for the tests."""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Deque, Dict, List, Optional, Set, Tuple

import raft

CLUSTER_ID = 0x5EED


class Recorder(raft.StateMachine):
    """Records every apply and every transition state."""

    def __init__(self) -> None:
        self.applied: List[Tuple[int, bytes]] = []
        self.states: Dict[int, List[raft.TransitionState]] = {}
        self.lock = threading.Lock()  # the test thread reads while run() appends

    def apply_transition(self, transition_id: int, data: bytes) -> None:
        with self.lock:
            self.applied.append((transition_id, data))

    def register_transition_state(self, transition_id: int, state: raft.TransitionState) -> None:
        with self.lock:
            self.states.setdefault(transition_id, []).append(state)

    def snapshot(self) -> List[Tuple[int, bytes]]:
        with self.lock:
            return list(self.applied)


class Network:
    """Inboxes keyed by replica id.  Any thread may send; isolation cuts both directions."""

    def __init__(self, ids: List[int]) -> None:
        self.inboxes: Dict[int, Deque[bytes]] = {i: deque() for i in ids}
        self.isolated: Set[int] = set()
        self.replicas: Dict[int, raft.Replica] = {}  # notified on delivery (run() mode)
        self.lock = threading.Lock()
        self.delivered = 0

    def endpoint(self, replica_id: int) -> "Endpoint":
        return Endpoint(self, replica_id)

    def send(self, src: int, dst: int, message: bytes) -> None:
        with self.lock:
            if src in self.isolated or dst in self.isolated or dst not in self.inboxes:
                return
            self.inboxes[dst].append(message)
            target = self.replicas.get(dst)
        if target is not None:
            target.notify()

    def take(self, dst: int) -> List[bytes]:
        with self.lock:
            messages = list(self.inboxes[dst])
            self.inboxes[dst].clear()
            self.delivered += len(messages)
            return messages

    def pending(self, dst: int) -> bool:
        with self.lock:
            return bool(self.inboxes[dst])

    def isolate(self, replica_id: int) -> None:
        with self.lock:
            self.isolated.add(replica_id)
            self.inboxes[replica_id].clear()

    def heal(self, replica_id: int) -> None:
        with self.lock:
            self.isolated.discard(replica_id)


class Endpoint(raft.Cluster):
    def __init__(self, net: Network, replica_id: int) -> None:
        self.net = net
        self.id = replica_id
        self.leaders: List[Optional[int]] = []
        self.halted = threading.Event()

    def send_message(self, to_id: int, message: bytes) -> None:
        assert isinstance(message, bytes)
        self.net.send(self.id, to_id, message)

    def receive_messages(self) -> List[bytes]:
        return self.net.take(self.id)

    def halt(self) -> bool:
        return self.halted.is_set()

    def register_leader(self, leader_id: Optional[int]) -> None:
        self.leaders.append(leader_id)


class SimCluster:
    """N replicas driven with poll() against a virtual clock, one millisecond at a time.

    A replica is polled when its deadline passes or a message waits for it, as an
    event loop would; a wrong deadline therefore stalls the cluster and fails a test.
    """

    def __init__(
        self,
        n: int = 3,
        seed: int = 1,
        machine: Callable[[], Recorder] = Recorder,
        **options: object,
    ) -> None:
        self.ids = list(range(1, n + 1))
        self.net = Network(self.ids)
        self.machines = {i: machine() for i in self.ids}
        self.endpoints = {i: self.net.endpoint(i) for i in self.ids}
        self.now = 0
        self.deadline = {i: 0 for i in self.ids}
        self.replicas: Dict[int, raft.Replica] = {}
        for i in self.ids:
            self.replicas[i] = raft.Replica(
                i,
                [p for p in self.ids if p != i],
                self.machines[i],
                self.endpoints[i],
                cluster_id=CLUSTER_ID,
                random_seed=seed * 1000 + i,
                **options,  # type: ignore[arg-type]
            )

    def close(self) -> None:
        for r in self.replicas.values():
            r.close()

    def __enter__(self) -> "SimCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def step(self, ms: int = 1) -> None:
        for _ in range(ms):
            self.now += 1
            for i in self.ids:
                if self.now >= self.deadline[i] or self.net.pending(i):
                    self.deadline[i] = self.replicas[i].poll(self.now)

    def poll_now(self, replica_id: int) -> None:
        self.deadline[replica_id] = self.replicas[replica_id].poll(self.now)

    def run_until(self, done: Callable[[], bool], max_ms: int) -> bool:
        for _ in range(max_ms):
            if done():
                return True
            self.step()
        return done()

    def leader(self) -> Optional[int]:
        """The single connected replica that is leader, or None."""
        leaders = [
            i
            for i in self.ids
            if i not in self.net.isolated and self.replicas[i].role == raft.Role.LEADER
        ]
        return leaders[0] if len(leaders) == 1 else None

    def wait_leader(self, max_ms: int = 5000) -> int:
        assert self.run_until(lambda: self.leader() is not None, max_ms), "no leader elected"
        leader = self.leader()
        assert leader is not None
        return leader

    def wait_applied(self, count: int, max_ms: int = 5000, ids: Optional[List[int]] = None) -> None:
        ids = ids or [i for i in self.ids if i not in self.net.isolated]
        ok = self.run_until(
            lambda: all(len(self.machines[i].applied) >= count for i in ids), max_ms
        )
        got = {i: len(self.machines[i].applied) for i in ids}
        assert ok, f"not every replica applied {count} transitions: {got}"
