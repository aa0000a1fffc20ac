//! Replica configuration.  Unset values take the linked library's defaults.
use crate::error::{Error, ErrorCode};
use crate::types::{LogLevel, ReplicaId};
use raft_sys as sys;
use std::ffi::CString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A sink for the library's diagnostics: one line, without a trailing newline.
pub type Logger = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// Builder: `Options::new(1).peers([2, 3]).heartbeat(Duration::from_millis(20))`.
#[derive(Clone, Default)]
pub struct Options {
    id: ReplicaId,
    peers: Vec<ReplicaId>,
    heartbeat: Option<Duration>,
    election_timeout: Option<(Duration, Duration)>,
    data_dir: Option<PathBuf>,
    cluster_id: Option<u64>,
    random_seed: Option<u64>,
    pre_vote: Option<bool>,
    check_quorum: Option<bool>,
    max_batch_bytes: Option<u32>,
    max_inflight: Option<u32>,
    max_entry_bytes: Option<u32>,
    max_queue_bytes: Option<u64>,
    log_level: Option<LogLevel>,
    snapshot_interval: Option<u64>,
    snapshot_trailing: Option<u64>,
    max_snapshot_chunk_bytes: Option<u32>,
    busy_poll_us: Option<u32>,
    max_uncommitted_bytes: Option<u64>,
    pub(crate) logger: Option<Logger>,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    };
}

impl Options {
    /// Replica `id` (nonzero, unique in the cluster), library defaults otherwise.
    pub fn new(id: ReplicaId) -> Options {
        Options { id, ..Options::default() }
    }

    pub fn id(&self) -> ReplicaId {
        self.id
    }

    /// The other voters, not including this replica.
    pub fn peers(mut self, peers: impl IntoIterator<Item = ReplicaId>) -> Self {
        self.peers = peers.into_iter().collect();
        self
    }

    setter!(
        /// How often the leader sends heartbeats (whole milliseconds).
        heartbeat: Duration
    );
    setter!(
        /// Durable storage in this directory; unset keeps everything in memory.
        data_dir: PathBuf
    );
    setter!(
        /// Carried in every message; messages of other clusters are rejected.
        cluster_id: u64
    );
    setter!(
        /// Election jitter; equal seeds give identical runs.  Unset or 0: from the clock.
        random_seed: u64
    );
    setter!(pre_vote: bool);
    setter!(check_quorum: bool);
    setter!(max_batch_bytes: u32);
    setter!(max_inflight: u32);
    setter!(
        /// The largest proposal.
        max_entry_bytes: u32
    );
    setter!(
        /// Proposal bytes waiting for the loop; beyond this `propose` fails with Busy.
        max_queue_bytes: u64
    );
    setter!(
        /// The most verbose level passed to the logger.
        log_level: LogLevel
    );
    setter!(
        /// Take a snapshot every this many applied entries (0, the default: never).
        /// Needs a state machine whose `supports_snapshots` is true.
        snapshot_interval: u64
    );
    setter!(
        /// Entries kept in the log behind a snapshot, so that slightly slow followers
        /// need no snapshot.
        snapshot_trailing: u64
    );
    setter!(
        /// Snapshot bytes per message when a follower needs the whole snapshot.
        max_snapshot_chunk_bytes: u32
    );
    setter!(
        /// `run` only: after a turn that sent or received messages, keep looking for new
        /// work this many microseconds before sleeping.  0 sleeps at once; at most 10000.
        busy_poll_us: u32
    );
    setter!(
        /// A leader's proposal bytes not yet committed (queued, plus its log beyond the
        /// commit index); beyond this `propose` fails with Busy, so a leader whose
        /// followers lag stops growing its log.  One is always admitted when nothing is
        /// uncommitted.
        max_uncommitted_bytes: u64
    );

    /// The range election timeouts are drawn from (whole milliseconds).
    pub fn election_timeout(mut self, min: Duration, max: Duration) -> Self {
        self.election_timeout = Some((min, max));
        self
    }

    /// Where the library's diagnostics go (by default nowhere).
    pub fn logger(mut self, logger: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> Self {
        self.logger = Some(Arc::new(logger));
        self
    }

    /// The C struct, with the buffers its pointers refer to.
    pub(crate) fn to_c(&self) -> Result<COptions, Error> {
        let mut raw = unsafe {
            let mut raw = std::mem::MaybeUninit::<sys::raft_options>::uninit();
            sys::raft_options_init(raw.as_mut_ptr());
            raw.assume_init()
        };
        let peers = self.peers.clone();
        let data_dir = match &self.data_dir {
            None => None,
            Some(dir) => Some(
                CString::new(dir.as_os_str().as_bytes())
                    .map_err(|_| Error::new(ErrorCode::Invalid, "data_dir contains a NUL byte"))?,
            ),
        };
        raw.id = self.id;
        raw.peers = if peers.is_empty() { std::ptr::null() } else { peers.as_ptr() };
        raw.n_peers = peers.len();
        raw.data_dir = data_dir.as_ref().map_or(std::ptr::null(), |d| d.as_ptr());
        if let Some(d) = self.heartbeat {
            raw.heartbeat_ms = millis("heartbeat", d)?;
        }
        if let Some((min, max)) = self.election_timeout {
            raw.election_timeout_min_ms = millis("election timeout", min)?;
            raw.election_timeout_max_ms = millis("election timeout", max)?;
        }
        if let Some(v) = self.cluster_id {
            raw.cluster_id = v;
        }
        if let Some(v) = self.random_seed {
            raw.random_seed = v;
        }
        if let Some(v) = self.pre_vote {
            raw.pre_vote = v as i32;
        }
        if let Some(v) = self.check_quorum {
            raw.check_quorum = v as i32;
        }
        if let Some(v) = self.max_batch_bytes {
            raw.max_batch_bytes = v;
        }
        if let Some(v) = self.max_inflight {
            raw.max_inflight = v;
        }
        if let Some(v) = self.max_entry_bytes {
            raw.max_entry_bytes = v;
        }
        if let Some(v) = self.max_queue_bytes {
            raw.max_queue_bytes = v;
        }
        if let Some(v) = self.log_level {
            raw.log_level = v.raw();
        }
        if let Some(v) = self.snapshot_interval {
            raw.snapshot_interval = v;
        }
        if let Some(v) = self.snapshot_trailing {
            raw.snapshot_trailing = v;
        }
        if let Some(v) = self.max_snapshot_chunk_bytes {
            raw.max_snapshot_chunk_bytes = v;
        }
        if let Some(v) = self.busy_poll_us {
            raw.busy_poll_us = v;
        }
        if let Some(v) = self.max_uncommitted_bytes {
            raw.max_uncommitted_bytes = v;
        }
        Ok(COptions { raw, _peers: peers, _data_dir: data_dir })
    }
}

fn millis(what: &str, d: Duration) -> Result<u32, Error> {
    u32::try_from(d.as_millis())
        .map_err(|_| Error::new(ErrorCode::Invalid, format!("{} of {:?} is too long", what, d)))
}

/// raft_options plus the memory its pointers borrow (moving a Vec or CString
/// does not move their heap buffers).
pub(crate) struct COptions {
    pub raw: sys::raft_options,
    _peers: Vec<ReplicaId>,
    _data_dir: Option<CString>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("id", &self.id)
            .field("peers", &self.peers)
            .field("heartbeat", &self.heartbeat)
            .field("election_timeout", &self.election_timeout)
            .field("data_dir", &self.data_dir)
            .field("cluster_id", &self.cluster_id)
            .field("random_seed", &self.random_seed)
            .field("pre_vote", &self.pre_vote)
            .field("check_quorum", &self.check_quorum)
            .field("max_batch_bytes", &self.max_batch_bytes)
            .field("max_inflight", &self.max_inflight)
            .field("max_entry_bytes", &self.max_entry_bytes)
            .field("max_queue_bytes", &self.max_queue_bytes)
            .field("log_level", &self.log_level)
            .field("snapshot_interval", &self.snapshot_interval)
            .field("snapshot_trailing", &self.snapshot_trailing)
            .field("max_snapshot_chunk_bytes", &self.max_snapshot_chunk_bytes)
            .field("busy_poll_us", &self.busy_poll_us)
            .field("max_uncommitted_bytes", &self.max_uncommitted_bytes)
            .field("logger", &self.logger.as_ref().map(|_| "Fn"))
            .finish()
    }
}
