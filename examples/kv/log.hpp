// One-line diagnostics on stderr, prefixed with the wall-clock time and the
// process's role ("node 2", "cli"), so interleaved logs of a cluster read well.
#pragma once

namespace kv {

void set_log_prefix(const char* prefix);
void logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace kv
