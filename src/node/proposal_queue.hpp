// Proposals waiting for the loop thread.  Any thread adds (under the node's
// mutex); the loop thread swaps the whole batch out once per turn, so both
// sides reuse their buffers and nothing is allocated per proposal once warm.
#pragma once

#include <cstdint>

#include "common/copy_bytes.hpp"
#include "core/message.hpp"
#include "node/frame_buffer.hpp"
#include "raft.h"

namespace raft::node {

class ProposalQueue {
 public:
  using Item = Proposal;  // the core takes a batch as it is queued
  struct Batch {
    PodBuffer<Item> items;
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

  // Queue proposals[0..n-1], whose payloads add up to `payload` bytes.
  // Memory for all of them is reserved before anything is queued, so a
  // std::bad_alloc leaves the queue as it was.
  void push_all(const raft_proposal* proposals, std::size_t n, std::size_t payload) {
    if (n == 0) return;
    // Both appends reserve before changing anything: if the second throws,
    // the first is taken back.
    Item* out = pending_.items.append(n);
    std::uint8_t* dst = nullptr;
    try {
      dst = pending_.bytes.append(payload);
    } catch (...) {
      pending_.items.truncate(pending_.items.size() - n);
      throw;
    }
    std::size_t offset = pending_.bytes.size() - payload;
    for (std::size_t k = 0; k < n; ++k) {
      const raft_proposal& p = proposals[k];
      copy_bytes(dst, static_cast<const std::uint8_t*>(p.data), p.len);
      dst += p.len;
      out[k] = Item{p.id, offset, p.len};
      offset += p.len;
    }
    accounted_ += payload + n * cost(0);
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
