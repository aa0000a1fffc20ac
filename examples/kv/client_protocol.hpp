// The client protocol: one request per line, one reply line per request, in
// request order (a client may pipeline).  Words are separated by spaces;
// keys and values are 1..kMaxKey / 1..kMaxValue bytes of printable non-space
// characters.  See README.md for the full table.
//
//   PUT key value           OK
//   GET key                 VALUE value | NOTFOUND
//   DEL key                 OK | NOTFOUND
//   CAS key expected new    OK | NOTFOUND | MISMATCH current
//   STATUS                  STATUS id=.. role=.. term=.. leader=.. ...  (local, any node)
//   PING                    PONG
//   QUIT                    (closes the connection)
//
// Errors.  The first three are definite: the request was NOT executed.
//   REDIRECT id host:port   not the leader; retry there
//   ERR NOLEADER            no leader known right now; retry later
//   ERR BUSY                the node is overloaded; retry later
//   ERR BADREQ why          malformed request (never executed)
//   ERR UNKNOWN why         the outcome is unknown: it may or may not apply
#pragma once

#include <cstddef>
#include <string>

#include "kv_store.hpp"

namespace kv {

constexpr std::size_t kMaxKey = 256;
constexpr std::size_t kMaxValue = 64 * 1024;
// A request line can hold CAS with two maximal values.
constexpr std::size_t kMaxLine = kMaxKey + 2 * kMaxValue + 64;

struct Request {
  enum Kind { kCommand, kStatus, kPing, kQuit, kBad } kind = kBad;
  Command command;  // kCommand
  std::string why;  // kBad
};

// Parses one line (without its '\n'; a trailing '\r' is ignored).
Request parse_request(const std::string& line);

// The reply line (with '\n') for an applied command's result.
std::string format_result(const Result& r);

}  // namespace kv
