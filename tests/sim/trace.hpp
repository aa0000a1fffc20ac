// What happened in a run, for the person debugging a failure: a ring of the
// last events (printed when an invariant breaks) and, with --trace, every
// event as it happens.  Records are fixed-size structs formatted only when
// printed, so keeping the ring costs a copy per event, not a printf.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/message.hpp"

namespace sim {

// The fields of one frame that a human (or a scenario filter) cares about.
struct MsgInfo {
  raft::MsgType type = raft::MsgType::kAppendEntries;
  bool pre_vote = false;
  bool granted = false;
  bool success = false;
  std::uint64_t term = 0;
  std::uint64_t index = 0;       // last_log_index, prev_log_index or match/reject index
  std::uint64_t index_term = 0;  // last_log_term or prev_log_term or hint_term
  std::uint64_t hint = 0;        // AppendEntriesResponse rejection: hint_index
  std::uint64_t commit = 0;
  std::uint32_t entries = 0;  // AppendEntries: entries; InstallSnapshot: chunk bytes
  std::uint64_t offset = 0;   // InstallSnapshot(Response): byte offset
  std::uint64_t size = 0;     // InstallSnapshot: the snapshot's size
  bool rewind = false;        // InstallSnapshotResponse: resend from offset
};

const char* msg_type_name(const MsgInfo& m);
std::string describe(const MsgInfo& m);

enum class Rec : std::uint8_t {
  kSend,
  kDeliver,
  kDrop,
  kPoll,
  kPropose,
  kTransition,
  kApply,
  kRole,
  kFault,
  kClient,
  kNote,
};

struct TraceRec {
  std::uint64_t time_us = 0;
  Rec kind = Rec::kNote;
  std::uint32_t a = 0, b = 0;  // usually from/to or node
  std::uint64_t x = 0, y = 0;
  MsgInfo msg;
  char note[48] = "";
};

class Trace {
 public:
  explicit Trace(std::size_t keep = 40) : ring_(keep) {}

  void set_verbose(FILE* out) { verbose_ = out; }
  bool verbose() const { return verbose_ != nullptr; }

  void add(const TraceRec& r) {
    ring_[next_ % ring_.size()] = r;
    ++next_;
    if (verbose_ != nullptr) print(verbose_, r);
  }
  void note(std::uint64_t time_us, Rec kind, std::uint32_t a, const char* fmt, ...)
      __attribute__((format(printf, 5, 6)));

  // The last `n` records, oldest first.
  void dump(FILE* out, std::size_t n) const;
  static void print(FILE* out, const TraceRec& r);

 private:
  std::vector<TraceRec> ring_;
  std::uint64_t next_ = 0;
  FILE* verbose_ = nullptr;
};

}  // namespace sim
