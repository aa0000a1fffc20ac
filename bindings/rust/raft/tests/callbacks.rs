//! Panics in callbacks, re-entrant calls, logging.
mod support;

use raft::{
    Cluster, ErrorCode, LogLevel, Options, Replica, ReplicaId, StateMachine, TransitionState,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use support::{lead, Alone, Recorder};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<&str>() {
        Ok(s) => s.to_string(),
        Err(payload) => *payload.downcast::<String>().expect("a string panic"),
    }
}

#[derive(Default)]
struct PanicsOn2(Vec<u64>);

impl StateMachine for PanicsOn2 {
    fn apply_transition(&mut self, transition_id: u64, _data: &[u8]) {
        if transition_id == 2 {
            panic!("apply 2");
        }
        self.0.push(transition_id);
    }
}

#[test]
fn a_panic_in_apply_is_resumed_and_stops_the_replica() {
    let sm = Arc::new(Mutex::new(PanicsOn2::default()));
    let r = Replica::with_options(
        &Options::new(1).random_seed(1),
        Arc::new(Mutex::new(Alone)),
        sm.clone(),
    )
    .unwrap();
    let now = lead(&r);
    for k in 1..=3 {
        r.propose(k, b"v").unwrap();
    }
    let payload =
        catch_unwind(AssertUnwindSafe(|| r.poll(now + 1))).expect_err("the panic is resumed");
    assert_eq!(panic_message(payload), "apply 2");
    // The state machine missed entry 2: nothing after it is applied, and the node stopped.
    assert_eq!(sm.lock().unwrap_or_else(|e| e.into_inner()).0, [1]);
    assert_eq!(r.poll(now + 2).unwrap_err().code(), ErrorCode::Shutdown);
}

/// Panics on chosen calls of send_message or receive_messages; counts the calls.
#[derive(Default)]
struct Flaky {
    sends: usize,
    receives: usize,
    panic_on_send: Option<usize>,
    panic_on_receive: Option<usize>,
}

impl Cluster for Flaky {
    fn send_message(&mut self, _: ReplicaId, _: &[u8]) {
        self.sends += 1;
        if Some(self.sends) == self.panic_on_send {
            panic!("send {}", self.sends);
        }
    }
    fn receive_messages(&mut self) -> Vec<Vec<u8>> {
        self.receives += 1;
        if Some(self.receives) == self.panic_on_receive {
            panic!("receive {}", self.receives);
        }
        Vec::new()
    }
}

fn flaky_replica(flaky: Flaky) -> (Replica<Recorder, Flaky>, Arc<Mutex<Flaky>>) {
    let cluster = Arc::new(Mutex::new(flaky));
    let opts = Options::new(1).peers([2, 3]).random_seed(1);
    let r =
        Replica::with_options(&opts, cluster.clone(), Arc::new(Mutex::new(Recorder::default())));
    (r.unwrap(), cluster)
}

#[test]
fn a_panic_in_send_is_resumed_and_the_replica_carries_on() {
    let (r, cluster) = flaky_replica(Flaky { panic_on_send: Some(1), ..Flaky::default() });
    let mut panics = Vec::new();
    // Nobody answers, so the replica campaigns again and again: sends go on.
    for now in 1..5000 {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| r.poll(now).unwrap())) {
            panics.push(panic_message(payload));
        }
    }
    assert_eq!(panics, ["send 1"]);
    assert!(cluster.lock().unwrap_or_else(|e| e.into_inner()).sends > 2);
}

#[test]
fn a_panic_in_receive_is_resumed_instead_of_a_callback_error() {
    let (r, cluster) = flaky_replica(Flaky { panic_on_receive: Some(1), ..Flaky::default() });
    let payload = catch_unwind(AssertUnwindSafe(|| r.poll(1))).expect_err("resumed");
    assert_eq!(panic_message(payload), "receive 1");
    r.poll(2).unwrap(); // nothing left over: the next turn is a normal one
    assert_eq!(cluster.lock().unwrap_or_else(|e| e.into_inner()).receives, 2);
}

#[test]
fn a_panic_in_register_transition_state_does_not_stop_apply() {
    #[derive(Default)]
    struct Grumpy(Vec<u64>);
    impl StateMachine for Grumpy {
        fn register_transition_state(&mut self, _: u64, state: TransitionState) {
            panic!("state {:?}", state);
        }
        fn apply_transition(&mut self, id: u64, _: &[u8]) {
            self.0.push(id);
        }
    }
    let sm = Arc::new(Mutex::new(Grumpy::default()));
    let r = Replica::with_options(
        &Options::new(1).random_seed(1),
        Arc::new(Mutex::new(Alone)),
        sm.clone(),
    )
    .unwrap();
    let now = lead(&r);
    r.propose(9, b"z").unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| r.poll(now + 1))).expect_err("resumed");
    assert_eq!(panic_message(payload), "state Queued"); // only the first panic of a turn is kept
    let _ = catch_unwind(AssertUnwindSafe(|| r.poll(now + 2)));
    assert_eq!(sm.lock().unwrap_or_else(|e| e.into_inner()).0, [9]);
}

#[test]
fn reentrant_calls_from_a_callback() {
    type Shared = Arc<Mutex<Option<Arc<Replica<Reentrant, Alone>>>>>;
    #[derive(Default)]
    struct Reentrant {
        me: Shared,
        seen: Vec<Result<(), ErrorCode>>,
        applied: Vec<u64>,
    }
    impl StateMachine for Reentrant {
        fn apply_transition(&mut self, id: u64, _: &[u8]) {
            self.applied.push(id);
            let r = self.me.lock().unwrap().clone().unwrap();
            self.seen.push(r.poll(1 << 40).map(|_| ()).map_err(|e| e.code()));
            self.seen.push(r.run().map_err(|e| e.code()));
            if id < 100 {
                self.seen.push(r.propose(id + 100, b"from apply").map_err(|e| e.code()));
            }
        }
    }
    let me = Shared::default();
    let sm = Arc::new(Mutex::new(Reentrant { me: me.clone(), ..Reentrant::default() }));
    let r = Arc::new(
        Replica::with_options(
            &Options::new(1).random_seed(1),
            Arc::new(Mutex::new(Alone)),
            sm.clone(),
        )
        .unwrap(),
    );
    *me.lock().unwrap() = Some(r.clone());
    let now = lead(&*r);
    r.propose(1, b"a").unwrap();
    r.poll(now + 1).unwrap();
    r.poll(now + 2).unwrap();
    let sm = sm.lock().unwrap();
    assert_eq!(sm.seen[..3], [Err(ErrorCode::Busy), Err(ErrorCode::Busy), Ok(())]);
    assert_eq!(sm.applied, [1, 101]);
    *me.lock().unwrap() = None; // break the cycle
}

#[test]
fn the_logger_gets_warnings_but_not_create_failures() {
    struct Junk(Vec<Vec<u8>>);
    impl Cluster for Junk {
        fn send_message(&mut self, _: ReplicaId, _: &[u8]) {}
        fn receive_messages(&mut self) -> Vec<Vec<u8>> {
            std::mem::take(&mut self.0)
        }
    }
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let opts = Options::new(1)
        .peers([2, 3])
        .logger(move |level, line| sink.lock().unwrap().push((level, line.to_string())));
    let r = Replica::with_options(
        &opts,
        Arc::new(Mutex::new(Junk(vec![b"junk".to_vec()]))),
        Arc::new(Mutex::new(Recorder::default())),
    )
    .unwrap();
    r.poll(1).unwrap();
    {
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{:?}", lines);
        assert_eq!(lines[0].0, LogLevel::Warn);
        assert!(lines[0].1.contains("rejected"), "{:?}", lines);
    }
    lines.lock().unwrap().clear();
    let sink = lines.clone();
    let bad = Options::new(0)
        .logger(move |level, line| sink.lock().unwrap().push((level, line.to_string())));
    let e = Replica::with_options(
        &bad,
        Arc::new(Mutex::new(Alone)),
        Arc::new(Mutex::new(Recorder::default())),
    )
    .unwrap_err();
    assert!(!e.detail().is_empty());
    assert!(lines.lock().unwrap().is_empty(), "the failure is the error, not a log line");
}

#[test]
fn the_replica_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Replica<Recorder, support::Endpoint>>();
}
