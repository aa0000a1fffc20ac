// English descriptions of the RAFT_E* codes, for raft_strerror() and for
// the messages every layer writes.  At the bottom of the layering so that
// storage and node need not call up into the C API.
#pragma once

namespace raft {

// A static string; never null.
const char* error_text(int code);

}  // namespace raft
