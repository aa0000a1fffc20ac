// The detail of each thread's last failing call on one node.  Any thread may
// fail a call (propose, status) while the loop thread fails others, and
// raft_node_errmsg() reads the text after the call returned, without a
// lock: so each thread gets its own buffer, which only that thread writes.
// A fixed number of slots, reused least-recently-used, keeps memory bounded
// and needs no global or thread-local state.
#pragma once

#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

namespace raft::node {

class ErrorSlots {
 public:
  static constexpr std::size_t kTextBytes = 256;

  // Records text as the calling thread's last error.
  void set(const char* text) {
    std::lock_guard<std::mutex> lock(mu_);
    Slot& s = claim_locked(std::this_thread::get_id());
    std::snprintf(s.text, sizeof s.text, "%s", text);
  }

  // The calling thread's last error, "" if it has none.  Valid until this
  // thread's next failing call on the node.
  const char* get() const {
    std::lock_guard<std::mutex> lock(mu_);
    const std::thread::id me = std::this_thread::get_id();
    for (const Slot& s : slots_)
      if (s.owner == me) return s.text;
    return "";
  }

 private:
  struct Slot {
    std::thread::id owner;
    unsigned long long used = 0;
    char text[kTextBytes] = "";
  };

  Slot& claim_locked(std::thread::id me) {
    Slot* oldest = &slots_[0];
    for (Slot& s : slots_) {
      if (s.owner == me) {
        s.used = ++clock_;
        return s;
      }
      if (s.used < oldest->used) oldest = &s;
    }
    oldest->owner = me;
    oldest->used = ++clock_;
    return *oldest;
  }

  mutable std::mutex mu_;
  Slot slots_[8];
  unsigned long long clock_ = 0;
};

}  // namespace raft::node
