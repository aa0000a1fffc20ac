"""Three replicas driven with poll() on a virtual clock: replication, order, abandonment."""

from __future__ import annotations

from typing import List, Optional

import raft
from raft import TransitionState as TS
from support import SimCluster


def payload(k: int) -> bytes:
    # Varied sizes, including empty and binary payloads.
    return bytes((k * 7 + j) % 256 for j in range(k % 37))


def test_replicates_1000_transitions_in_the_same_order() -> None:
    with SimCluster(3, seed=7) as c:
        leader = c.wait_leader()
        expected = []
        for k in range(1, 1001):
            c.replicas[leader].propose(k, payload(k))
            expected.append((k, payload(k)))
            if k % 100 == 0:  # batches, so replication overlaps new proposals
                c.step(5)
        c.wait_applied(1000)
        for i in c.ids:
            assert c.machines[i].applied == expected, f"replica {i} applied a different sequence"
        # Every proposal went QUEUED, COMMITTED, APPLIED on the replica that took it.
        states = c.machines[leader].states
        assert all(states[k] == [TS.QUEUED, TS.COMMITTED, TS.APPLIED] for k in range(1, 1001))
        for i in c.ids:
            if i != leader:
                assert c.machines[i].states == {}, "states are reported only where proposed"
        c.step(200)  # heartbeats carry the commit index to the followers
        statuses = [c.replicas[i].status() for i in c.ids]
        assert len({(s.term, s.commit_index, s.applied_index) for s in statuses}) == 1
        assert all(s.leader == leader for s in statuses)
        assert statuses[leader - 1].role == raft.Role.LEADER
        assert sum(s.role == raft.Role.FOLLOWER for s in statuses) == 2
        assert all(s.msgs_rejected == 0 and s.proposals_queued == 0 for s in statuses)
        for i in c.ids:
            assert c.endpoints[i].leaders[-1] == leader


def test_proposal_on_a_follower_is_abandoned_not_leader() -> None:
    with SimCluster(3, seed=11) as c:
        leader = c.wait_leader()
        follower = next(i for i in c.ids if i != leader)
        c.replicas[follower].propose(42, b"nope")
        c.poll_now(follower)
        assert c.machines[follower].states[42] == [TS.ABANDONED_NOT_LEADER]
        assert TS.ABANDONED_NOT_LEADER.abandoned and not TS.APPLIED.abandoned
        c.step(300)
        assert all(m.applied == [] for m in c.machines.values())


def test_isolated_leader_abandons_what_it_could_not_commit() -> None:
    with SimCluster(3, seed=31) as c:
        old = c.wait_leader()
        for k in range(1, 51):
            c.replicas[old].propose(k, b"a")
        c.wait_applied(50)
        old_term = c.replicas[old].status().term

        c.net.isolate(old)
        stranded = list(range(901, 906))
        for k in stranded:
            c.replicas[old].propose(k, b"x")
        c.poll_now(old)
        fresh = c.wait_leader()
        assert fresh != old and c.replicas[fresh].status().term > old_term
        for k in range(51, 101):
            c.replicas[fresh].propose(k, b"b")
        c.wait_applied(100)

        c.net.heal(old)
        c.wait_applied(100, ids=c.ids)
        c.step(1000)
        assert c.leader() == fresh
        reference = c.machines[fresh].applied
        assert [k for k, _ in reference] == list(range(1, 101))
        for i in c.ids:
            assert c.machines[i].applied == reference
        for k in stranded:
            assert c.machines[old].states[k] == [TS.QUEUED, TS.ABANDONED_CONFLICT]


def test_leader_changes_are_reported_to_the_cluster() -> None:
    with SimCluster(3, seed=5) as c:
        leader = c.wait_leader()
        c.step(100)
        for i in c.ids:
            seen: List[Optional[int]] = c.endpoints[i].leaders
            assert seen and seen[-1] == leader
            assert all(x is None or x in c.ids for x in seen)
            assert all(a != b for a, b in zip(seen, seen[1:])), "only changes are reported"
