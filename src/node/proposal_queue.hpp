// Proposals waiting for the loop thread.  Any thread adds (under the node's
// mutex); the loop thread swaps the whole batch out once per turn, so both
// sides reuse their buffers and nothing is allocated per proposal once warm.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/message.hpp"
#include "node/frame_buffer.hpp"

namespace raft::node {

class ProposalQueue {
 public:
  using Item = Proposal;  // the core takes a batch as it is queued
  struct Batch {
    std::vector<Item> items;
    FrameBuffer bytes;
    void clear() {
      items.clear();
      bytes.clear();
    }
  };

  // Accounted size of a proposal: its payload plus a fixed charge, so that a
  // flood of empty proposals is bounded too.
  static std::uint64_t cost(std::size_t len) { return len + sizeof(Item); }

  std::uint64_t bytes() const { return accounted_; }
  std::size_t size() const { return pending_.items.size(); }
  bool empty() const { return pending_.items.empty(); }

  void push(std::uint64_t id, const void* data, std::size_t len) {
    const std::size_t offset = pending_.bytes.size();
    if (len > 0) std::memcpy(pending_.bytes.append(len), data, len);
    pending_.items.push_back(Item{id, offset, len});
    accounted_ += cost(len);
  }

  // Move everything queued into `out` (which must be empty).
  void take(Batch& out) {
    out.items.swap(pending_.items);
    out.bytes.swap(pending_.bytes);
    accounted_ = 0;
  }

 private:
  Batch pending_;
  std::uint64_t accounted_ = 0;
};

}  // namespace raft::node
