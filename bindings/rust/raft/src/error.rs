//! Errors: the library's RAFT_E* codes plus its explanation.
use raft_sys as sys;
use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

/// The RAFT_E* codes.  `Other` holds a code newer than this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    Invalid,
    NoMemory,
    NotLeader,
    Busy,
    Shutdown,
    Io,
    Corrupt,
    TooBig,
    Callback,
    Version,
    Internal,
    /// The configuration lacks what this needs (e.g. snapshots).
    NotSupported,
    Other(i32),
}

const CODES: [(ErrorCode, c_int); 12] = [
    (ErrorCode::Invalid, sys::RAFT_EINVAL),
    (ErrorCode::NoMemory, sys::RAFT_ENOMEM),
    (ErrorCode::NotLeader, sys::RAFT_ENOTLEADER),
    (ErrorCode::Busy, sys::RAFT_EBUSY),
    (ErrorCode::Shutdown, sys::RAFT_ESHUTDOWN),
    (ErrorCode::Io, sys::RAFT_EIO),
    (ErrorCode::Corrupt, sys::RAFT_ECORRUPT),
    (ErrorCode::TooBig, sys::RAFT_ETOOBIG),
    (ErrorCode::Callback, sys::RAFT_ECALLBACK),
    (ErrorCode::Version, sys::RAFT_EVERSION),
    (ErrorCode::Internal, sys::RAFT_EINTERNAL),
    (ErrorCode::NotSupported, sys::RAFT_ENOTSUP),
];

impl ErrorCode {
    pub fn from_raw(code: i32) -> ErrorCode {
        CODES.iter().find(|(_, c)| *c == code).map(|(e, _)| *e).unwrap_or(ErrorCode::Other(code))
    }

    /// The C value.
    pub fn raw(self) -> i32 {
        match self {
            ErrorCode::Other(code) => code,
            known => CODES.iter().find(|(e, _)| *e == known).map(|(_, c)| *c).unwrap(),
        }
    }

    /// raft_strerror(): a short English description.
    pub fn description(self) -> &'static str {
        // raft_strerror returns static strings, never NULL.
        unsafe { CStr::from_ptr(sys::raft_strerror(self.raw())) }.to_str().unwrap_or("?")
    }
}

/// A failed libraft call: the code and the library's detail (raft_node_errmsg), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    detail: String,
}

impl Error {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Error {
        Error { code, detail: detail.into() }
    }

    pub(crate) fn from_raw(code: c_int, detail: impl Into<String>) -> Error {
        Error::new(ErrorCode::from_raw(code), detail)
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Why, in the library's words ("" when it said nothing more than the code).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.code.description())
        } else {
            write!(f, "{}: {}", self.detail, self.code.description())
        }
    }
}

impl std::error::Error for Error {}
