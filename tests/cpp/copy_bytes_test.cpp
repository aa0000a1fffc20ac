// copy_bytes: every length from 0 to past its inline sizes copies exactly
// the bytes asked for, at any alignment, and not one byte more.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "common/copy_bytes.hpp"

namespace raft::test {
namespace {

TEST(CopyBytes, CopiesExactlyNBytesForEveryLengthAndAlignment) {
  std::vector<std::uint8_t> src(300);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<std::uint8_t>(i * 7 + 1);
  for (std::size_t n = 0; n <= 200; ++n) {
    for (std::size_t align = 0; align < 8; ++align) {
      std::vector<std::uint8_t> dst(n + 32, 0xEE);
      copy_bytes(dst.data() + 8 + align % 4, src.data() + align, n);
      for (std::size_t i = 0; i < dst.size(); ++i) {
        const std::size_t at = 8 + align % 4;
        const std::uint8_t want = i >= at && i < at + n ? src[align + i - at] : 0xEE;
        ASSERT_EQ(dst[i], want) << "n " << n << " align " << align << " byte " << i;
      }
    }
  }
}

TEST(CopyBytes, NullPointersAreFineForZeroBytes) {
  copy_bytes(nullptr, nullptr, 0);
  SUCCEED();
}

}  // namespace
}  // namespace raft::test
