//! Error codes and details, option checks, and stopped replicas.
mod support;

use raft::{ErrorCode, Options, Replica, TransitionState};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{lead, single, Alone, Recorder, SimCluster};

fn create_error(options: Options) -> raft::Error {
    Replica::with_options(
        &options,
        Arc::new(Mutex::new(Alone)),
        Arc::new(Mutex::new(Recorder::default())),
    )
    .expect_err("create must fail")
}

#[test]
fn create_errors_carry_the_code_and_the_reason() {
    let e = create_error(Options::new(0));
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(e.detail().contains("id"), "{}", e.detail());
    assert_eq!(e.to_string(), format!("{}: {}", e.detail(), ErrorCode::Invalid.description()));

    let ms = Duration::from_millis;
    let e = create_error(Options::new(1).heartbeat(ms(200)).election_timeout(ms(150), ms(300)));
    assert!(e.code() == ErrorCode::Invalid && e.detail().contains("heartbeat"), "{}", e);
    let e = create_error(Options::new(1).election_timeout(ms(300), ms(300)));
    assert!(e.code() == ErrorCode::Invalid && e.detail().contains("election"), "{}", e);
    let e = create_error(Options::new(1).peers([1, 2]));
    assert_eq!(e.code(), ErrorCode::Invalid);
}

#[test]
fn options_the_c_struct_cannot_hold_are_refused_in_rust() {
    let e = create_error(Options::new(1).heartbeat(Duration::from_secs(u64::from(u32::MAX))));
    assert!(e.code() == ErrorCode::Invalid && e.detail().contains("too long"), "{}", e);
    let e = create_error(Options::new(1).data_dir("bad\0dir".into()));
    assert!(e.code() == ErrorCode::Invalid && e.detail().contains("NUL"), "{}", e);
}

#[test]
fn codes_round_trip_and_describe_themselves() {
    for raw in -11..=-1 {
        let code = ErrorCode::from_raw(raw);
        assert!(!matches!(code, ErrorCode::Other(_)), "{} is known", raw);
        assert_eq!(code.raw(), raw);
    }
    assert_eq!(ErrorCode::from_raw(-99), ErrorCode::Other(-99));
    assert_eq!(ErrorCode::Other(-99).raw(), -99);
    assert_ne!(ErrorCode::Busy.description(), ErrorCode::Shutdown.description());
}

#[test]
fn too_big_and_busy_proposals() {
    let r = single(Options::new(1).random_seed(1).max_entry_bytes(16).max_queue_bytes(1024));
    let now = lead(&r);
    r.propose(1, &[b'x'; 16]).unwrap();
    r.propose(2, b"").unwrap();
    let e = r.propose(3, &[b'x'; 17]).unwrap_err();
    assert!(e.code() == ErrorCode::TooBig && e.detail().contains("max_entry_bytes"), "{}", e);
    let busy = (10..10_000).map(|k| r.propose(k, b"q")).find_map(Result::err).expect("queue fills");
    assert_eq!(busy.code(), ErrorCode::Busy);
    assert!(r.status().unwrap().proposals_queued > 2);
    r.poll(now + 1).unwrap(); // the loop drains the queue
    r.propose(20_000, b"again").unwrap();
    r.poll(now + 2).unwrap();
    let applied = &r.state_machine().lock().unwrap().applied;
    assert_eq!(applied[..2], [(1, vec![b'x'; 16]), (2, vec![])]);
    assert_eq!(applied.last().unwrap(), &(20_000, b"again".to_vec()));
}

fn applied(r: &Replica<Recorder, Alone>) -> Vec<(u64, Vec<u8>)> {
    r.state_machine().lock().unwrap().applied.clone()
}

#[test]
fn too_much_uncommitted_is_busy_until_it_commits() {
    let e = create_error(Options::new(1).max_uncommitted_bytes(0));
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(e.detail().contains("max_uncommitted_bytes"), "{}", e);

    let r = single(Options::new(1).random_seed(1).max_uncommitted_bytes(64));
    let now = lead(&r);
    r.propose(1, &[b'x'; 100]).unwrap(); // over the limit, but nothing was uncommitted: admitted
    for e in [r.propose(2, b"y").unwrap_err(), r.propose_batch(&[(2, b"y")]).unwrap_err()] {
        assert_eq!(e.code(), ErrorCode::Busy);
        assert!(e.detail().contains("max_uncommitted_bytes"), "{}", e);
    }
    r.poll(now + 1).unwrap(); // a single replica commits at once: nothing is uncommitted after it
    assert_eq!(applied(&r), [(1, vec![b'x'; 100])]);
    // (20 + 24) + (20 + 24) bytes would pass 64: a short batch, the rest goes later.
    assert_eq!(r.propose_batch(&[(3, &[b'a'; 20]), (4, &[b'b'; 20])]).unwrap(), 1);
    r.poll(now + 2).unwrap();
    r.propose(4, &[b'b'; 20]).unwrap();
    r.poll(now + 3).unwrap();
    assert_eq!(applied(&r), [(1, vec![b'x'; 100]), (3, vec![b'a'; 20]), (4, vec![b'b'; 20])]);
}

#[test]
fn a_batch_is_applied_in_order() {
    let r = single(Options::new(1).random_seed(1));
    let now = lead(&r);
    assert_eq!(r.propose_batch(&[]).unwrap(), 0);
    assert_eq!(r.propose_batch(&[(1, b"one"), (2, b"a\0b"), (3, b""), (4, b"four")]).unwrap(), 4);
    r.propose(5, b"single").unwrap(); // interleaves in call order
    let more: Vec<(u64, Vec<u8>)> = (6..50).map(|k| (k, format!("g{}", k).into_bytes())).collect();
    let borrowed: Vec<(u64, &[u8])> = more.iter().map(|(k, d)| (*k, &d[..])).collect();
    assert_eq!(r.propose_batch(&borrowed).unwrap(), 44);
    for t in now + 1..now + 20 {
        r.poll(t).unwrap();
    }
    let mut want: Vec<(u64, Vec<u8>)> = vec![
        (1, b"one".to_vec()),
        (2, b"a\0b".to_vec()),
        (3, vec![]),
        (4, b"four".to_vec()),
        (5, b"single".to_vec()),
    ];
    want.extend(more);
    assert_eq!(applied(&r), want);
    let sm = r.state_machine().lock().unwrap();
    assert_eq!(sm.states.len(), 49);
    let full = [TransitionState::Queued, TransitionState::Committed, TransitionState::Applied];
    assert!(sm.states.values().all(|s| s[..] == full), "{:?}", sm.states);
}

#[test]
fn a_full_queue_gives_a_short_batch_and_the_rest_goes_later() {
    let r = single(Options::new(1).random_seed(1).max_queue_bytes(512));
    let mut now = lead(&r);
    let owned: Vec<(u64, Vec<u8>)> =
        (100..200).map(|k| (k, format!("p{}............", k).into_bytes())).collect(); // 16 bytes
    let items: Vec<(u64, &[u8])> = owned.iter().map(|(k, d)| (*k, &d[..])).collect();
    let first = r.propose_batch(&items).unwrap();
    assert!(first > 0 && first < items.len(), "{} of {} queued", first, items.len());
    // Nothing fits now: Busy, as propose gives it.
    assert_eq!(r.propose_batch(&items[first..]).unwrap_err().code(), ErrorCode::Busy);
    let mut done = first;
    while done < items.len() {
        now += 1;
        r.poll(now).unwrap(); // the loop drains the queue
        done += r.propose_batch(&items[done..]).unwrap();
        assert!(now < 10_000);
    }
    for t in now + 1..now + 20 {
        r.poll(t).unwrap();
    }
    assert_eq!(applied(&r), owned); // each once, in order
}

#[test]
fn a_batch_fails_only_when_nothing_was_queued() {
    let r = single(Options::new(1).random_seed(1).max_entry_bytes(8));
    let now = lead(&r);
    let items: [(u64, &[u8]); 3] = [(1, b"ok"), (2, b"123456789"), (3, b"later")];
    assert_eq!(r.propose_batch(&items).unwrap(), 1); // stopped at the one too big
    let e = r.propose_batch(&items[1..]).unwrap_err(); // leading its batch, it fails
    assert!(e.code() == ErrorCode::TooBig && e.detail().contains("max_entry_bytes"), "{}", e);
    assert_eq!(r.propose_batch(&items[2..]).unwrap(), 1);
    for t in now + 1..now + 20 {
        r.poll(t).unwrap();
    }
    assert_eq!(applied(&r), [(1, b"ok".to_vec()), (3, b"later".to_vec())]);
    r.stop();
    assert_eq!(r.propose_batch(&items).unwrap_err().code(), ErrorCode::Shutdown);
}

#[test]
fn a_stopped_replica_refuses_work() {
    let r = single(Options::new(1).random_seed(1));
    r.stop();
    r.stop(); // idempotent
    assert_eq!(r.poll(1).unwrap_err().code(), ErrorCode::Shutdown);
    assert_eq!(r.run().unwrap_err().code(), ErrorCode::Shutdown);
    assert_eq!(r.propose(1, b"").unwrap_err().code(), ErrorCode::Shutdown);
    assert_eq!(r.status().unwrap().id, 1);
}

#[test]
fn data_dir_keeps_the_log() {
    let dir = std::env::temp_dir().join(format!("raft-rs-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let r = single(Options::new(1).random_seed(1).data_dir(dir.clone()));
        let now = lead(&r);
        r.propose(7, b"kept").unwrap();
        r.poll(now + 1).unwrap();
        assert_eq!(r.state_machine().lock().unwrap().applied, [(7, b"kept".to_vec())]);
    }
    let r = single(Options::new(1).random_seed(1).data_dir(dir.clone()));
    let now = lead(&r); // the entry of the old term commits under the new one
    for t in now + 1..now + 20 {
        r.poll(t).unwrap();
    }
    assert_eq!(r.status().unwrap().term, 2);
    assert_eq!(r.state_machine().lock().unwrap().applied, [(7, b"kept".to_vec())]);
    drop(r);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn garbage_messages_are_counted_not_fatal() {
    let mut c = SimCluster::new(3, 6);
    let leader = c.wait_leader();
    let follower = c.ids().into_iter().find(|&id| id != leader).unwrap();
    for junk in [&b""[..], &[0u8; 64][..], b"not a raft frame", &[0xff; 3][..]] {
        support::deliver(&c.net, leader, follower, junk.to_vec());
    }
    c.step(10);
    assert_eq!(c.replica(follower).status().unwrap().msgs_rejected, 4);
    c.replica(leader).propose(1, b"still fine").unwrap();
    c.wait_applied(1, &c.ids());
}
