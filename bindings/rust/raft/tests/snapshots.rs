//! Snapshots: the StateMachine's save/load methods, compaction, restart from data_dir.
mod support;

use raft::{
    Error, ErrorCode, Options, Replica, SnapshotProgress, SnapshotReader, SnapshotWriter,
    StateMachine,
};
use std::sync::{Arc, Mutex};
use support::{lead, Alone, Recorder, SimCluster};

#[test]
fn a_cluster_takes_snapshots_and_keeps_applying() {
    let mut c = SimCluster::with(
        3,
        3,
        |o| o.snapshot_interval(20).snapshot_trailing(5),
        || Recorder::snapshotting(1),
    );
    let leader = c.wait_leader();
    let expected: Vec<(u64, Vec<u8>)> =
        (1..=120u64).map(|k| (k, format!("v{}", k).into_bytes())).collect();
    for (k, data) in &expected {
        c.replica(leader).propose(*k, data).unwrap();
        if k % 10 == 0 {
            c.step(5);
        }
    }
    c.wait_applied(120, &c.ids());
    c.step(200);
    for id in c.ids() {
        let st = c.replica(id).status().unwrap();
        let m = c.machine(id);
        assert_eq!(m.applied, expected, "replica {}", id);
        assert!(!m.saves.is_empty(), "replica {} never saved a snapshot", id);
        assert!(st.snapshot_index > 0 && st.snapshot_index <= st.applied_index);
        assert_eq!(st.snapshot_index, *m.saves.last().unwrap());
    }
}

fn single(dir: &std::path::Path, machine: Recorder) -> Replica<Recorder, Alone> {
    let options = Options::new(1)
        .random_seed(9)
        .data_dir(dir.to_path_buf())
        .snapshot_interval(20)
        .snapshot_trailing(0);
    Replica::with_options(&options, Arc::new(Mutex::new(Alone)), Arc::new(Mutex::new(machine)))
        .expect("create")
}

#[test]
fn restart_from_data_dir_loads_the_snapshot_then_replays() {
    let dir = std::env::temp_dir().join(format!("raft-rs-snapshot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (first, last) = {
        let r = single(&dir, Recorder::snapshotting(1));
        let mut now = lead(&r);
        for k in 1..=50u64 {
            r.propose(k, k.to_string().as_bytes()).unwrap();
            now += 1;
            r.poll(now).unwrap(); // one entry per turn: several snapshots
        }
        let m = r.state_machine().lock().unwrap();
        assert_eq!(m.applied.len(), 50);
        assert!(m.saves.len() >= 2);
        assert_eq!(r.status().unwrap().snapshot_index, *m.saves.last().unwrap());
        (m.applied.clone(), *m.saves.last().unwrap())
    };
    let r = single(&dir, Recorder::snapshotting(1));
    {
        // Loaded while the replica was created, before any apply; the leader's no-op at
        // index 1 carries no transition.
        let m = r.state_machine().lock().unwrap();
        assert_eq!(m.loads, [(last, last as usize - 1)]);
        assert_eq!(m.applied[..], first[..last as usize - 1]);
    }
    let mut now = 0;
    while r.state_machine().lock().unwrap().applied.len() < 50 {
        now += 1;
        r.poll(now).unwrap();
        assert!(now < 5000, "the log after the snapshot was not replayed");
    }
    assert_eq!(r.state_machine().lock().unwrap().applied, first);
    drop(r);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_save_in_steps_applies_nothing_until_it_completes() {
    let mut c = SimCluster::with(1, 4, |o| o.snapshot_interval(10), || Recorder::snapshotting(4));
    let leader = c.wait_leader();
    for k in 1..=40u64 {
        c.replica(leader).propose(k, b"x").unwrap();
        c.poll_now(leader); // one turn per entry: the save's steps overlap later entries
    }
    c.step(50);
    let m = c.machine(leader);
    assert_eq!(m.applied.len(), 40);
    assert!(m.saves.len() >= 2, "saves: {:?}", m.saves);
    assert_eq!(m.applies_during_save, 0);
}

/// Fails its first save, then behaves.
struct FailsOnce {
    inner: Recorder,
    failed: Option<u64>,
}

impl StateMachine for FailsOnce {
    fn apply_transition(&mut self, id: u64, data: &[u8]) {
        self.inner.apply_transition(id, data)
    }
    fn supports_snapshots(&self) -> bool {
        true
    }
    fn save_snapshot(
        &mut self,
        w: &mut SnapshotWriter<'_>,
        index: u64,
    ) -> Result<SnapshotProgress, Error> {
        if self.failed.is_none() {
            self.failed = Some(index);
            return Err(Error::new(ErrorCode::Io, "disk full"));
        }
        self.inner.save_snapshot(w, index)
    }
    fn load_snapshot(&mut self, r: &mut SnapshotReader<'_>, index: u64) -> Result<(), Error> {
        self.inner.load_snapshot(r, index)
    }
}

#[test]
fn a_failed_save_is_given_up_and_retried_later() {
    let sm = Arc::new(Mutex::new(FailsOnce { inner: Recorder::default(), failed: None }));
    let options = Options::new(1).random_seed(2).snapshot_interval(10);
    let r = Replica::with_options(&options, Arc::new(Mutex::new(Alone)), sm.clone()).unwrap();
    let mut now = lead(&r);
    for k in 1..=40u64 {
        r.propose(k, b"y").unwrap();
        now += 1;
        r.poll(now).unwrap();
    }
    let m = sm.lock().unwrap();
    assert_eq!(m.failed, Some(10));
    assert_eq!(m.inner.applied.len(), 40);
    assert!(!m.inner.saves.is_empty() && m.inner.saves[0] > 10, "saves: {:?}", m.inner.saves);
    assert_eq!(r.status().unwrap().snapshot_index, *m.inner.saves.last().unwrap());
}

#[test]
fn an_interval_without_snapshot_support_is_invalid() {
    let options = Options::new(1).snapshot_interval(10);
    let e = Replica::with_options(&options, Arc::new(Mutex::new(Alone)), Arc::default())
        .map(|_: Replica<Recorder, Alone>| ())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(e.detail().contains("snapshot"), "{}", e);
    assert_eq!(ErrorCode::from_raw(-12), ErrorCode::NotSupported);
}
