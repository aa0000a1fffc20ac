package raft

/*
#include <raft.h>
*/
import "C"

import "fmt"

// ErrorCode is one of the RAFT_E* codes (negative, fixed forever).
type ErrorCode int

const (
	ErrCodeInvalid   ErrorCode = -1
	ErrCodeNoMemory  ErrorCode = -2
	ErrCodeNotLeader ErrorCode = -3
	ErrCodeBusy      ErrorCode = -4
	ErrCodeShutdown  ErrorCode = -5
	ErrCodeIO        ErrorCode = -6
	ErrCodeCorrupt   ErrorCode = -7
	ErrCodeTooBig    ErrorCode = -8
	ErrCodeCallback  ErrorCode = -9
	ErrCodeVersion   ErrorCode = -10
	ErrCodeInternal  ErrorCode = -11
	// ErrCodeNotSupported: the configuration lacks what this needs (e.g. snapshots).
	ErrCodeNotSupported ErrorCode = -12
)

// String is raft_strerror(): a short English description.
func (c ErrorCode) String() string {
	return C.GoString(C.raft_strerror(C.int(c)))
}

// Error is a failed libraft call: the code and the library's detail, if any.
// Compare with errors.Is against the Err* values, which match on the code alone.
type Error struct {
	Code   ErrorCode
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "raft: " + e.Code.String()
	}
	return fmt.Sprintf("raft: %s: %s", e.Detail, e.Code)
}

// Is makes errors.Is(err, raft.ErrBusy) true for any *Error with the code of ErrBusy.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Detail == ""
}

// Sentinels for errors.Is.
var (
	ErrInvalid      = &Error{Code: ErrCodeInvalid}
	ErrNoMemory     = &Error{Code: ErrCodeNoMemory}
	ErrNotLeader    = &Error{Code: ErrCodeNotLeader}
	ErrBusy         = &Error{Code: ErrCodeBusy}
	ErrShutdown     = &Error{Code: ErrCodeShutdown}
	ErrIO           = &Error{Code: ErrCodeIO}
	ErrCorrupt      = &Error{Code: ErrCodeCorrupt}
	ErrTooBig       = &Error{Code: ErrCodeTooBig}
	ErrCallback     = &Error{Code: ErrCodeCallback}
	ErrVersion      = &Error{Code: ErrCodeVersion}
	ErrInternal     = &Error{Code: ErrCodeInternal}
	ErrNotSupported = &Error{Code: ErrCodeNotSupported}
)

// nodeError builds the error of a failed call on node, copying the detail at
// once: the library keeps it only until the next call on the node.
func nodeError(rc C.int, node *C.raft_node) error {
	if rc == C.RAFT_OK {
		return nil
	}
	return &Error{Code: ErrorCode(rc), Detail: C.GoString(C.raft_node_errmsg(node))}
}
