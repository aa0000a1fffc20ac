//! An in-memory network, recording state machines and a poll-driven cluster.
#![allow(dead_code)] // each test file uses a different part

use raft::{
    Cluster, Error, Options, Replica, ReplicaId, Role, SnapshotProgress, SnapshotReader,
    SnapshotWriter, StateMachine, TransitionState,
};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub const CLUSTER_ID: u64 = 0x5eed;

#[derive(Default)]
pub struct Recorder {
    pub applied: Vec<(u64, Vec<u8>)>,
    pub states: HashMap<u64, Vec<TransitionState>>,
    /// Opt in to snapshots: the whole apply history is the snapshot.
    pub snapshots: bool,
    /// save_snapshot calls per snapshot (More in between); 0 counts as 1.
    pub save_steps: usize,
    /// Index of every completed save; (index, entries) of every load.
    pub saves: Vec<u64>,
    pub loads: Vec<(u64, usize)>,
    pub applies_during_save: usize,
    saving: Option<Vec<u8>>,
}

impl Recorder {
    pub fn snapshotting(save_steps: usize) -> Recorder {
        Recorder { snapshots: true, save_steps, ..Recorder::default() }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (id, data) in &self.applied {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    fn decode(mut bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let id = u64::from_le_bytes(bytes[..8].try_into().unwrap());
            let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
            out.push((id, bytes[12..12 + len].to_vec()));
            bytes = &bytes[12 + len..];
        }
        out
    }
}

impl StateMachine for Recorder {
    fn supports_snapshots(&self) -> bool {
        self.snapshots
    }

    fn save_snapshot(
        &mut self,
        writer: &mut SnapshotWriter<'_>,
        index: u64,
    ) -> Result<SnapshotProgress, Error> {
        let mut rest = match self.saving.take() {
            Some(rest) => rest,
            None => self.encode(),
        };
        let part = (rest.len() + self.save_steps.max(1) - 1) / self.save_steps.max(1);
        let tail = rest.split_off(part.min(rest.len()));
        writer.write_all(&rest).expect("snapshot write");
        if tail.is_empty() {
            self.saves.push(index);
            return Ok(SnapshotProgress::Done);
        }
        self.saving = Some(tail);
        Ok(SnapshotProgress::More)
    }

    fn load_snapshot(&mut self, reader: &mut SnapshotReader<'_>, index: u64) -> Result<(), Error> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).expect("snapshot read");
        self.applied = Recorder::decode(&bytes);
        self.loads.push((index, self.applied.len()));
        Ok(())
    }

    fn register_transition_state(&mut self, transition_id: u64, state: TransitionState) {
        self.states.entry(transition_id).or_default().push(state);
    }

    fn apply_transition(&mut self, transition_id: u64, data: &[u8]) {
        if self.saving.is_some() {
            self.applies_during_save += 1;
        }
        self.applied.push((transition_id, data.to_vec()));
    }
}

pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Inboxes keyed by replica id; isolation cuts both directions.
#[derive(Default)]
pub struct Net {
    pub inboxes: HashMap<ReplicaId, VecDeque<Vec<u8>>>,
    pub isolated: HashSet<ReplicaId>,
    /// Called on delivery: wakes the destination's run() (threaded tests).
    pub wakers: HashMap<ReplicaId, Waker>,
}

pub type SharedNet = Arc<Mutex<Net>>;

pub fn deliver(net: &SharedNet, from: ReplicaId, to: ReplicaId, message: Vec<u8>) {
    let waker = {
        let mut n = net.lock().unwrap();
        if n.isolated.contains(&from) || n.isolated.contains(&to) {
            return;
        }
        match n.inboxes.get_mut(&to) {
            Some(inbox) => inbox.push_back(message),
            None => return,
        }
        n.wakers.get(&to).cloned()
    };
    if let Some(wake) = waker {
        wake();
    }
}

pub struct Endpoint {
    pub net: SharedNet,
    pub id: ReplicaId,
    pub leaders: Vec<Option<ReplicaId>>,
    pub halted: Arc<AtomicBool>,
}

impl Endpoint {
    pub fn new(net: &SharedNet, id: ReplicaId) -> Endpoint {
        net.lock().unwrap().inboxes.entry(id).or_default();
        Endpoint { net: net.clone(), id, leaders: Vec::new(), halted: Arc::default() }
    }
}

impl Cluster for Endpoint {
    fn send_message(&mut self, to_id: ReplicaId, message: &[u8]) {
        deliver(&self.net, self.id, to_id, message.to_vec());
    }

    fn receive_messages(&mut self) -> Vec<Vec<u8>> {
        let mut net = self.net.lock().unwrap();
        net.inboxes.get_mut(&self.id).map(|inbox| inbox.drain(..).collect()).unwrap_or_default()
    }

    fn halt(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }

    fn register_leader(&mut self, leader_id: Option<ReplicaId>) {
        self.leaders.push(leader_id);
    }
}

pub type TestReplica = Replica<Recorder, Endpoint>;

/// Replica ids 1..=n, each with the others as peers.
pub fn options(id: ReplicaId, n: u64) -> Options {
    Options::new(id).peers((1..=n).filter(|&p| p != id)).cluster_id(CLUSTER_ID)
}

/// N replicas driven with poll() on a virtual clock, one millisecond at a time.  A
/// replica is polled when its deadline passes or a message waits, as an event loop
/// would; a wrong deadline stalls the cluster and fails the test.
pub struct SimCluster {
    pub net: SharedNet,
    pub replicas: Vec<TestReplica>,
    pub now: u64,
    deadlines: Vec<u64>,
}

impl SimCluster {
    pub fn new(n: u64, seed: u64) -> SimCluster {
        SimCluster::with(n, seed, |o| o, Recorder::default)
    }

    /// `tweak` adjusts every replica's options; `machine` makes each state machine.
    pub fn with(
        n: u64,
        seed: u64,
        tweak: impl Fn(Options) -> Options,
        machine: impl Fn() -> Recorder,
    ) -> SimCluster {
        let net = SharedNet::default();
        let replicas = (1..=n)
            .map(|id| {
                let opts = tweak(options(id, n).random_seed(seed * 1000 + id));
                let endpoint = Arc::new(Mutex::new(Endpoint::new(&net, id)));
                let sm = Arc::new(Mutex::new(machine()));
                Replica::with_options(&opts, endpoint, sm).expect("create")
            })
            .collect();
        SimCluster { net, replicas, now: 0, deadlines: vec![0; n as usize] }
    }

    pub fn ids(&self) -> Vec<ReplicaId> {
        (1..=self.replicas.len() as u64).collect()
    }

    pub fn replica(&self, id: ReplicaId) -> &TestReplica {
        &self.replicas[id as usize - 1]
    }

    pub fn machine(&self, id: ReplicaId) -> std::sync::MutexGuard<'_, Recorder> {
        self.replica(id).state_machine().lock().unwrap()
    }

    pub fn applied(&self, id: ReplicaId) -> Vec<(u64, Vec<u8>)> {
        self.machine(id).applied.clone()
    }

    fn has_mail(&self, id: ReplicaId) -> bool {
        !self.net.lock().unwrap().inboxes[&id].is_empty()
    }

    pub fn poll_now(&mut self, id: ReplicaId) {
        let next = self.replica(id).poll(self.now).expect("poll");
        self.deadlines[id as usize - 1] = next;
    }

    pub fn step(&mut self, ms: u64) {
        for _ in 0..ms {
            self.now += 1;
            for id in self.ids() {
                if self.now >= self.deadlines[id as usize - 1] || self.has_mail(id) {
                    self.poll_now(id);
                }
            }
        }
    }

    pub fn run_until(&mut self, max_ms: u64, mut done: impl FnMut(&SimCluster) -> bool) -> bool {
        for _ in 0..max_ms {
            if done(self) {
                return true;
            }
            self.step(1);
        }
        done(self)
    }

    pub fn isolated(&self, id: ReplicaId) -> bool {
        self.net.lock().unwrap().isolated.contains(&id)
    }

    /// The single connected leader, if exactly one.
    pub fn leader(&self) -> Option<ReplicaId> {
        let leaders: Vec<ReplicaId> = self
            .ids()
            .into_iter()
            .filter(|&id| !self.isolated(id))
            .filter(|&id| self.replica(id).status().unwrap().role == Role::Leader)
            .collect();
        if leaders.len() == 1 {
            Some(leaders[0])
        } else {
            None
        }
    }

    pub fn wait_leader(&mut self) -> ReplicaId {
        assert!(self.run_until(5000, |c| c.leader().is_some()), "no leader elected");
        self.leader().unwrap()
    }

    pub fn wait_applied(&mut self, count: usize, ids: &[ReplicaId]) {
        let ok =
            self.run_until(5000, |c| ids.iter().all(|&id| c.machine(id).applied.len() >= count));
        let got: Vec<usize> = ids.iter().map(|&id| self.machine(id).applied.len()).collect();
        assert!(ok, "not every replica applied {} transitions: {:?}", count, got);
    }

    pub fn connected(&self) -> Vec<ReplicaId> {
        self.ids().into_iter().filter(|&id| !self.isolated(id)).collect()
    }

    pub fn isolate(&self, id: ReplicaId) {
        let mut net = self.net.lock().unwrap();
        net.isolated.insert(id);
        net.inboxes.get_mut(&id).unwrap().clear();
    }

    pub fn heal(&self, id: ReplicaId) {
        self.net.lock().unwrap().isolated.remove(&id);
    }
}

/// A cluster of one: no peers, never called.
pub struct Alone;

impl Cluster for Alone {
    fn send_message(&mut self, _to: ReplicaId, _message: &[u8]) {
        unreachable!("a single replica has nobody to talk to")
    }

    fn receive_messages(&mut self) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

pub fn single(options: Options) -> Replica<Recorder, Alone> {
    Replica::with_options(&options, Arc::new(Mutex::new(Alone)), Arc::default()).expect("create")
}

/// Poll a fresh single replica until it leads; returns the virtual time.
pub fn lead<S: StateMachine, C: Cluster>(r: &Replica<S, C>) -> u64 {
    let mut now = 0;
    while r.status().unwrap().role != Role::Leader {
        now = r.poll(now + 1).unwrap();
        assert!(now < 10_000, "no self-election");
    }
    now
}
