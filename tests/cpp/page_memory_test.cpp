// Page memory: both kinds of buffer hold what is written to every byte, and
// on Linux a populated buffer really is a mapping of its own.
#include <gtest/gtest.h>

#include <cstdint>

#include "common/page_memory.hpp"

namespace raft::test {
namespace {

void fill_and_check(PageMemory& m, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i) m[i] = static_cast<std::uint8_t>(i * 31 + 7);
  for (std::size_t i = 0; i < len; ++i)
    ASSERT_EQ(m[i], static_cast<std::uint8_t>(i * 31 + 7)) << "byte " << i;
}

TEST(PageMemory, EveryByteOfEitherKindIsUsable) {
  for (const bool populate : {false, true}) {
    for (const std::size_t len : {std::size_t{1}, std::size_t{4096}, std::size_t{57344},
                                  std::size_t{1} << 20, (std::size_t{1} << 20) + 13}) {
      PageMemory m = allocate_pages(len, populate);
      ASSERT_NE(m.get(), nullptr);
      EXPECT_EQ(m.get_deleter().len, len);
      fill_and_check(m, len);
    }
  }
}

TEST(PageMemory, PopulatedBuffersAreMappingsOnLinux) {
  PageMemory lazy = allocate_pages(std::size_t{1} << 20, false);
  EXPECT_FALSE(lazy.get_deleter().mapped);
  PageMemory eager = allocate_pages(std::size_t{1} << 20, true);
  // Linux, except under AddressSanitizer (gcc's or clang's): a mapping.
  EXPECT_EQ(eager.get_deleter().mapped, RAFT_PAGE_MEMORY_MAP == 1);
}

}  // namespace
}  // namespace raft::test
