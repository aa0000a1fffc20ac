// Large buffers straight from the kernel, with their pages mapped up front.
//
// A log that takes millions of entries per second fills a fresh megabyte
// every few hundred microseconds.  Touched one page at a time, each 4 KiB
// page costs a page fault (an exception, the memory cgroup's accounting, the
// zeroing); asking for the whole range at once (MAP_POPULATE) lets the kernel
// do the same work in one batch.  But a buffer that stays mostly empty would
// then cost all of its pages: callers populate only when they know the
// buffer will fill (a log's second chunk onwards).  Elsewhere than Linux, and
// without `populate`, this is plain new[].
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

// Whether allocate_pages can map populated pages: on Linux, except under
// AddressSanitizer, which puts red zones around new[] blocks and not around
// mappings (every buffer then comes from new[], so overruns stay caught).
#if defined(__SANITIZE_ADDRESS__)
#define RAFT_PAGE_MEMORY_MAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RAFT_PAGE_MEMORY_MAP 0
#endif
#endif
#if !defined(RAFT_PAGE_MEMORY_MAP) && defined(__linux__)
#define RAFT_PAGE_MEMORY_MAP 1
#endif
#if !defined(RAFT_PAGE_MEMORY_MAP)
#define RAFT_PAGE_MEMORY_MAP 0
#endif

namespace raft {

struct PageMemoryFree {
  std::size_t len = 0;
  bool mapped = false;
  void operator()(std::uint8_t* p) const noexcept;
};
using PageMemory = std::unique_ptr<std::uint8_t[], PageMemoryFree>;

// len bytes, uninitialised; with `populate`, pages already mapped when the
// system can (RAFT_PAGE_MEMORY_MAP).  Throws
// std::bad_alloc when no memory is left, like new[].
PageMemory allocate_pages(std::size_t len, bool populate);

}  // namespace raft
