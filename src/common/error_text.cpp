#include "common/error_text.hpp"

#include "raft.h"

namespace raft {

const char* error_text(int code) {
  switch (code) {
    case RAFT_OK:
      return "success";
    case RAFT_EINVAL:
      return "invalid argument";
    case RAFT_ENOMEM:
      return "out of memory";
    case RAFT_ENOTLEADER:
      return "not the leader";
    case RAFT_EBUSY:
      return "busy: re-entrant call or queue full";
    case RAFT_ESHUTDOWN:
      return "node stopped";
    case RAFT_EIO:
      return "I/O error";
    case RAFT_ECORRUPT:
      return "data corrupt";
    case RAFT_ETOOBIG:
      return "too big";
    case RAFT_ECALLBACK:
      return "callback failed";
    case RAFT_EVERSION:
      return "unknown struct version";
    case RAFT_EINTERNAL:
      return "internal error";
    case RAFT_ENOTSUP:
      return "not supported by this configuration";
    default:
      return "unknown error code";
  }
}

}  // namespace raft
