// raft.h as a C++ program sees it (C++11 and later).  check-headers.sh compiles it with
// -pedantic -Wall -Wextra -Werror for each standard, then links one build against the shared
// library and runs it: that proves the extern "C" block gives the functions C linkage.
#include <raft.h>

// Again: the include guard must make a second inclusion harmless.
#include <raft.h>

#include <cstdio>
#include <cstring>
#include <type_traits>

// The structs cross the ABI by value and by pointer: they must stay plain C layouts.
static_assert(std::is_standard_layout<raft_options>::value, "raft_options layout");
static_assert(std::is_trivially_copyable<raft_options>::value, "raft_options copy");
static_assert(std::is_standard_layout<raft_callbacks>::value, "raft_callbacks layout");
static_assert(std::is_standard_layout<raft_status>::value, "raft_status layout");
static_assert(std::is_standard_layout<raft_storage>::value, "raft_storage layout");
static_assert(std::is_same<raft_id, uint64_t>::value, "raft_id is uint64_t");
static_assert(RAFT_OK == 0 && RAFT_EINVAL < 0 && RAFT_EINTERNAL < 0 && RAFT_ENOTSUP < 0,
              "error codes");
static_assert(RAFT_SNAPSHOT_MORE > 0, "RAFT_SNAPSHOT_MORE is not an error");
static_assert(RAFT_NO_ID == 0, "RAFT_NO_ID");
static_assert(RAFT_VERSION_NUMBER ==
                  RAFT_VERSION_MAJOR * 10000 + RAFT_VERSION_MINOR * 100 + RAFT_VERSION_PATCH,
              "version number");

int main() {
  char expected[32];
  std::snprintf(expected, sizeof expected, "%d.%d.%d", RAFT_VERSION_MAJOR, RAFT_VERSION_MINOR,
                RAFT_VERSION_PATCH);
  if (raft_version_number() != RAFT_VERSION_NUMBER ||
      std::strcmp(raft_version_string(), expected) != 0) {
    std::fprintf(stderr, "header says %s, library says %s\n", expected, raft_version_string());
    return 1;
  }
  raft_options opt;
  raft_options_init(&opt);
  if (opt.version != RAFT_OPTIONS_VERSION || raft_strerror(RAFT_EINVAL) == nullptr) return 1;
  // The snapshot helpers link too, and refuse a null handle.
  if (raft_snapshot_write(nullptr, "x", 1) != RAFT_EINVAL) return 1;
  char buf[1];
  if (raft_snapshot_read(nullptr, buf, sizeof buf) != RAFT_EINVAL) return 1;
  return 0;
}
