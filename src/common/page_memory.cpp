#include "common/page_memory.hpp"

#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

// AddressSanitizer puts red zones around new[] blocks, not around mappings:
// under it every buffer comes from new[], so overruns stay caught.
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

#if RAFT_PAGE_MEMORY_MAP
namespace {

// Linux 5.14; older kernels refuse it and the pages fault in as touched.
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

// A mapping of len bytes starting on a huge-page boundary, so that the
// kernel can back it with 2 MiB pages (one allocation and one accounting
// step for 512 small pages), populated.  Null if mmap fails.
void* map_huge_aligned(std::size_t len) {
  const std::size_t extra = kHugePageBytes;
  void* raw =
      mmap(nullptr, len + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + extra - 1) & ~std::uintptr_t{extra - 1};
  const std::uintptr_t end = start + len + extra;
  if (aligned > start) munmap(raw, aligned - start);
  if (end > aligned + len) munmap(reinterpret_cast<void*>(aligned + len), end - (aligned + len));
  void* p = reinterpret_cast<void*>(aligned);
  // Advice only: without transparent huge pages (or on an old kernel) the
  // mapping still works, with small pages faulted in as touched.
  madvise(p, len, MADV_HUGEPAGE);
  madvise(p, len, MADV_POPULATE_WRITE);
  return p;
}

void* map_populated(std::size_t len) {
  void* p =
      mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace
#endif

void PageMemoryFree::operator()(std::uint8_t* p) const noexcept {
  if (p == nullptr) return;
#if RAFT_PAGE_MEMORY_MAP
  if (mapped) {
    munmap(p, len);
    return;
  }
#endif
  delete[] p;
}

PageMemory allocate_pages(std::size_t len, bool populate) {
#if RAFT_PAGE_MEMORY_MAP
  if (populate && len > 0) {
    void* p = len % kHugePageBytes == 0 ? map_huge_aligned(len) : map_populated(len);
    if (p != nullptr) return PageMemory(static_cast<std::uint8_t*>(p), PageMemoryFree{len, true});
  }
#else
  (void)populate;
#endif
  // Not zero-filled: callers write before they read.
  return PageMemory(new std::uint8_t[len], PageMemoryFree{len, false});
}

}  // namespace raft
