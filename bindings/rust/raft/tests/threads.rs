//! Replicas driven by run() on their own threads, with real clocks.
mod support;

use raft::{ErrorCode, Options, Replica, Role, StateMachine, TransitionState};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::{options, single, Endpoint, Recorder, SharedNet, TestReplica};

fn fast(opts: Options) -> Options {
    opts.heartbeat(Duration::from_millis(20))
        .election_timeout(Duration::from_millis(150), Duration::from_millis(300))
}

fn wait_for(seconds: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {}", what);
        thread::sleep(Duration::from_millis(2));
    }
}

fn leader_of(replicas: &[Arc<TestReplica>]) -> Option<&Arc<TestReplica>> {
    let leaders: Vec<_> =
        replicas.iter().filter(|r| r.status().unwrap().role == Role::Leader).collect();
    if leaders.len() == 1 {
        Some(leaders[0])
    } else {
        None
    }
}

/// Three replicas on run() threads apply `count` transitions, the same on each.
fn replicate_on_threads(count: usize, tune: impl Fn(Options) -> Options) {
    let net = SharedNet::default();
    let replicas: Vec<Arc<TestReplica>> = (1..=3)
        .map(|id| {
            let endpoint = Arc::new(Mutex::new(Endpoint::new(&net, id)));
            Arc::new(
                Replica::with_options(&tune(fast(options(id, 3))), endpoint, Arc::default())
                    .unwrap(),
            )
        })
        .collect();
    for r in &replicas {
        // Weak: the network must not keep the replicas (and so itself) alive.
        let weak = Arc::downgrade(r);
        let wake = move || {
            if let Some(r) = weak.upgrade() {
                r.notify();
            }
        };
        net.lock().unwrap().wakers.insert(r.id(), Arc::new(wake));
    }
    let runners: Vec<_> = replicas
        .iter()
        .map(|r| {
            let r = r.clone();
            thread::spawn(move || r.run())
        })
        .collect();

    wait_for(10, "a leader", || leader_of(&replicas).is_some());
    // Payload -> the id it is proposed under now.  A proposal abandoned by a
    // leadership change is proposed again under a new id, as a client would.
    let mut outstanding: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut next_id = 1u64;
    let mut propose = |data: Vec<u8>, outstanding: &mut HashMap<Vec<u8>, u64>| loop {
        if let Some(leader) = leader_of(&replicas) {
            match leader.propose(next_id, &data) {
                Ok(()) => {
                    outstanding.insert(data, next_id);
                    next_id += 1;
                    return;
                }
                Err(e) if e.code() == ErrorCode::Busy => {}
                Err(e) => panic!("propose: {}", e),
            }
        }
        thread::sleep(Duration::from_millis(1));
    };
    for k in 0..count {
        propose(format!("t{}", k).into_bytes(), &mut outstanding);
    }
    wait_for(30, &format!("{} transitions applied everywhere", count), || {
        let mut retry = Vec::new();
        for r in &replicas {
            let sm = r.state_machine().lock().unwrap();
            for (data, id) in &outstanding {
                if let Some(TransitionState::Abandoned(_)) =
                    sm.states.get(id).and_then(|s| s.last())
                {
                    retry.push(data.clone());
                }
            }
        }
        for data in retry {
            propose(data, &mut outstanding);
        }
        replicas.iter().all(|r| r.state_machine().lock().unwrap().applied.len() >= count)
    });
    let logs: Vec<_> =
        replicas.iter().map(|r| r.state_machine().lock().unwrap().applied.clone()).collect();
    assert!(logs[0] == logs[1] && logs[1] == logs[2], "replicas applied different sequences");
    let mut payloads: Vec<_> = logs[0].iter().map(|(_, d)| d.clone()).collect();
    payloads.sort();
    let mut expected: Vec<_> = (0..count).map(|k| format!("t{}", k).into_bytes()).collect();
    expected.sort();
    assert_eq!(payloads, expected, "lost or duplicated transitions");

    for r in &replicas {
        r.stop();
    }
    for runner in runners {
        runner.join().expect("run() did not panic").expect("run() returned Ok");
    }
}

#[test]
fn three_replicas_on_threads_replicate_1000_transitions() {
    replicate_on_threads(1000, |o| o);
}

#[test]
fn busy_poll_us_zero_runs_and_above_10000_is_refused() {
    // The library's bound (raft_node_create), so the value reaches raft_options.
    let e = Replica::with_options(
        &fast(Options::new(1)).busy_poll_us(10_001),
        Arc::new(Mutex::new(support::Alone)),
        Arc::<Mutex<Recorder>>::default(),
    )
    .expect_err("busy_poll_us 10001 must be refused");
    assert!(e.code() == ErrorCode::Invalid && e.detail().contains("busy_poll_us"), "{}", e);
    // 0: run() sleeps as soon as a turn is done; replication over run() threads still works.
    replicate_on_threads(200, |o| o.busy_poll_us(0));
}

#[test]
fn halt_and_stop_make_run_return() {
    let net = SharedNet::default();
    let endpoint = Arc::new(Mutex::new(Endpoint::new(&net, 1)));
    let halted = endpoint.lock().unwrap().halted.clone();
    let r = Arc::new(
        Replica::with_options(&fast(Options::new(1)), endpoint, Arc::<Mutex<Recorder>>::default())
            .unwrap(),
    );
    let runner = {
        let r = r.clone();
        thread::spawn(move || r.run())
    };
    thread::sleep(Duration::from_millis(30));
    halted.store(true, Ordering::SeqCst);
    r.notify();
    runner.join().unwrap().unwrap();
    halted.store(false, Ordering::SeqCst);
    r.poll(1 << 40).unwrap(); // halt does not stop the node

    let runner = {
        let r = r.clone();
        thread::spawn(move || r.run())
    };
    thread::sleep(Duration::from_millis(30));
    r.stop();
    runner.join().unwrap().unwrap();
    assert_eq!(r.run().unwrap_err().code(), ErrorCode::Shutdown);
}

#[test]
fn a_panic_in_apply_ends_run_with_it() {
    struct Exploding;
    impl StateMachine for Exploding {
        fn apply_transition(&mut self, id: u64, _: &[u8]) {
            panic!("apply {}", id);
        }
    }
    let r = Arc::new(
        Replica::with_options(
            &fast(Options::new(1)),
            Arc::new(Mutex::new(support::Alone)),
            Arc::new(Mutex::new(Exploding)),
        )
        .unwrap(),
    );
    let runner = {
        let r = r.clone();
        thread::spawn(move || catch_unwind(AssertUnwindSafe(|| r.run())))
    };
    wait_for(5, "a single-node leader", || r.status().unwrap().role == Role::Leader);
    r.propose(77, b"boom").unwrap();
    let payload = runner.join().unwrap().expect_err("run() resumed the panic");
    assert_eq!(*payload.downcast::<String>().unwrap(), "apply 77");
}

#[test]
fn proposals_from_many_threads() {
    let r = Arc::new(single(fast(Options::new(1))));
    let runner = {
        let r = r.clone();
        thread::spawn(move || r.run())
    };
    wait_for(5, "a single-node leader", || r.status().unwrap().role == Role::Leader);
    thread::scope(|s| {
        for t in 1..=4u64 {
            let r = &r;
            s.spawn(move || {
                for k in 0..100 {
                    r.propose(1000 * t + k, b"c").unwrap();
                }
            });
        }
    });
    wait_for(10, "400 applies", || r.state_machine().lock().unwrap().applied.len() == 400);
    let ids: Vec<u64> = r.state_machine().lock().unwrap().applied.iter().map(|(k, _)| *k).collect();
    for t in 1..=4 {
        let mine: Vec<u64> = ids.iter().copied().filter(|k| k / 1000 == t).collect();
        assert_eq!(mine, (1000 * t..1000 * t + 100).collect::<Vec<_>>(), "client {} in order", t);
    }
    r.stop();
    runner.join().unwrap().unwrap();
}

#[test]
fn a_second_driver_gets_busy() {
    let r = Arc::new(single(fast(Options::new(1))));
    let runner = {
        let r = r.clone();
        thread::spawn(move || r.run())
    };
    wait_for(5, "the first election", || r.status().unwrap().term > 0);
    assert_eq!(r.poll(1 << 40).unwrap_err().code(), ErrorCode::Busy);
    assert!(!runner.is_finished(), "the Busy call did not disturb the running loop");
    r.stop();
    runner.join().unwrap().unwrap();
}
