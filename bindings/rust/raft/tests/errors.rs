//! Error codes and details, option checks, and stopped replicas.
mod support;

use raft::{ErrorCode, Options, Replica};
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
