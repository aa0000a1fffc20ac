#include "common/page_memory.hpp"

#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace raft {

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
  if (populate) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (p != MAP_FAILED)
      return PageMemory(static_cast<std::uint8_t*>(p), PageMemoryFree{len, true});
  }
#else
  (void)populate;
#endif
  // Not zero-filled: callers write before they read.
  return PageMemory(new std::uint8_t[len], PageMemoryFree{len, false});
}

}  // namespace raft
