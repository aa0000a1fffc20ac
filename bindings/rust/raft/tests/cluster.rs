//! Three replicas driven with poll() on a virtual clock.
mod support;

use raft::{Role, TransitionAbandonedReason::*, TransitionState::*};
use support::SimCluster;

fn payload(k: u64) -> Vec<u8> {
    (0..k % 37).map(|j| ((k * 7 + j) % 256) as u8).collect()
}

#[test]
fn replicates_1000_transitions_in_the_same_order() {
    let mut c = SimCluster::new(3, 7);
    let leader = c.wait_leader();
    let mut expected = Vec::new();
    for k in 1..=1000u64 {
        c.replica(leader).propose(k, &payload(k)).unwrap();
        expected.push((k, payload(k)));
        if k % 100 == 0 {
            c.step(5); // replication overlaps new proposals
        }
    }
    c.wait_applied(1000, &c.ids());
    for id in c.ids() {
        assert_eq!(c.applied(id), expected, "replica {} applied another sequence", id);
        let states = &c.machine(id).states;
        if id == leader {
            for k in 1..=1000 {
                assert_eq!(states[&k], [Queued, Committed, Applied], "transition {}", k);
            }
        } else {
            assert!(states.is_empty(), "states are reported only where proposed");
        }
    }
    c.step(200); // heartbeats carry the commit index to the followers
    let statuses: Vec<_> = c.ids().iter().map(|&id| c.replica(id).status().unwrap()).collect();
    for st in &statuses {
        assert_eq!(
            (st.term, st.commit_index, st.applied_index),
            (statuses[0].term, statuses[0].commit_index, statuses[0].applied_index)
        );
        assert_eq!(st.leader, Some(leader));
        assert_eq!(st.role, if st.id == leader { Role::Leader } else { Role::Follower });
        assert_eq!((st.msgs_rejected, st.proposals_queued), (0, 0));
    }
    for id in c.ids() {
        let endpoint = c.replica(id).cluster().lock().unwrap();
        assert_eq!(endpoint.leaders.last(), Some(&Some(leader)));
        assert!(endpoint.leaders.windows(2).all(|w| w[0] != w[1]), "only changes are reported");
    }
}

#[test]
fn a_proposal_on_a_follower_is_abandoned_not_leader() {
    let mut c = SimCluster::new(3, 11);
    let leader = c.wait_leader();
    let follower = c.ids().into_iter().find(|&id| id != leader).unwrap();
    c.replica(follower).propose(42, b"nope").unwrap();
    c.poll_now(follower);
    assert_eq!(c.machine(follower).states[&42], [Abandoned(NotLeader)]);
    c.step(300);
    assert!(c.ids().iter().all(|&id| c.applied(id).is_empty()));
}

#[test]
fn an_isolated_leader_abandons_what_it_could_not_commit() {
    let mut c = SimCluster::new(3, 31);
    let old = c.wait_leader();
    for k in 1..=50 {
        c.replica(old).propose(k, b"a").unwrap();
    }
    c.wait_applied(50, &c.ids());
    let old_term = c.replica(old).status().unwrap().term;

    c.isolate(old);
    for k in 901..=905 {
        c.replica(old).propose(k, b"x").unwrap();
    }
    c.poll_now(old);
    let fresh = c.wait_leader();
    assert_ne!(fresh, old);
    assert!(c.replica(fresh).status().unwrap().term > old_term);
    for k in 51..=100 {
        c.replica(fresh).propose(k, b"b").unwrap();
    }
    c.wait_applied(100, &c.connected());

    c.heal(old);
    c.wait_applied(100, &c.ids());
    c.step(1000);
    assert_eq!(c.leader(), Some(fresh));
    let reference = c.applied(fresh);
    assert_eq!(
        reference.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
    for id in c.ids() {
        assert_eq!(c.applied(id), reference);
    }
    for k in 901..=905 {
        assert_eq!(c.machine(old).states[&k], [Queued, Abandoned(ConflictWithLeader)]);
    }
}
