//! The streams a state machine saves its snapshot through and loads it from.
//!
//! Both borrow a handle that libraft owns and that is valid only during one call
//! of `StateMachine::save_snapshot` or `load_snapshot`; the lifetime ties them to
//! that call, so they cannot be kept.  They implement `std::io::Write` and
//! `std::io::Read`, so any serialiser that writes to or reads from a stream works.
use crate::error::{Error, ErrorCode};
use raft_sys as sys;
use std::io;
use std::marker::PhantomData;
use std::os::raw::c_void;

/// What `save_snapshot` returns when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotProgress {
    /// Everything is written: the snapshot is committed and the log compacted.
    Done,
    /// Call again in the next turn, with a writer on the same snapshot (a large
    /// state saved in steps while heartbeats flow).  No transition is applied in
    /// between, so the state stays as of the snapshot's index.
    More,
}

/// Appends the state machine's bytes to the snapshot being saved.
pub struct SnapshotWriter<'a> {
    raw: *mut sys::raft_snapshot_writer,
    _call: PhantomData<&'a mut ()>,
}

impl<'a> SnapshotWriter<'a> {
    pub(crate) fn new(raw: *mut sys::raft_snapshot_writer) -> Self {
        SnapshotWriter { raw, _call: PhantomData }
    }

    /// Append all of `data`.  A storage failure gives the snapshot up, whatever
    /// `save_snapshot` then returns.
    pub fn write_bytes(&mut self, data: &[u8]) -> Result<(), Error> {
        let ptr = if data.is_empty() { std::ptr::null() } else { data.as_ptr() as *const c_void };
        let rc = unsafe { sys::raft_snapshot_write(self.raw, ptr, data.len()) };
        if rc == sys::RAFT_OK {
            Ok(())
        } else {
            Err(Error::from_raw(rc, "raft_snapshot_write"))
        }
    }
}

impl io::Write for SnapshotWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_bytes(buf).map_err(to_io)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // nothing is buffered here; libraft commits the snapshot durably at the end
    }
}

/// Reads the snapshot being loaded.
pub struct SnapshotReader<'a> {
    raw: *mut sys::raft_snapshot_reader,
    _call: PhantomData<&'a mut ()>,
}

impl<'a> SnapshotReader<'a> {
    pub(crate) fn new(raw: *mut sys::raft_snapshot_reader) -> Self {
        SnapshotReader { raw, _call: PhantomData }
    }

    /// Up to `buf.len()` bytes; 0 at the end.  Corrupt when the bytes fail their
    /// checksum (reported at the end, before 0 would be), Io on a storage failure.
    pub fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let ptr =
            if buf.is_empty() { std::ptr::null_mut() } else { buf.as_mut_ptr() as *mut c_void };
        let got = unsafe { sys::raft_snapshot_read(self.raw, ptr, buf.len()) };
        if got >= 0 {
            Ok(got as usize)
        } else {
            Err(Error::from_raw(got as i32, "raft_snapshot_read"))
        }
    }
}

impl io::Read for SnapshotReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_bytes(buf).map_err(to_io)
    }
}

fn to_io(e: Error) -> io::Error {
    let kind = match e.code() {
        ErrorCode::Corrupt => io::ErrorKind::InvalidData,
        ErrorCode::Invalid => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// The C return value for a failed save or load: the error's code when it is a
/// RAFT_E* code, else Callback.
pub(crate) fn failure_code(e: &Error) -> i32 {
    let raw = e.code().raw();
    if raw < 0 {
        raw
    } else {
        sys::RAFT_ECALLBACK
    }
}
