#include "trace.hpp"

#include <cinttypes>
#include <cstdarg>

namespace sim {

const char* msg_type_name(const MsgInfo& m) {
  switch (m.type) {
    case raft::MsgType::kRequestVote:
      return m.pre_vote ? "req-prevote" : "req-vote";
    case raft::MsgType::kRequestVoteResponse:
      return m.pre_vote ? "prevote-resp" : "vote-resp";
    case raft::MsgType::kAppendEntries:
      return "append";
    case raft::MsgType::kAppendEntriesResponse:
      return "append-resp";
    case raft::MsgType::kInstallSnapshot:
      return "snapshot";
    case raft::MsgType::kInstallSnapshotResponse:
      return "snapshot-resp";
  }
  return "?";
}

std::string describe(const MsgInfo& m) {
  char buf[160];
  switch (m.type) {
    case raft::MsgType::kRequestVote:
      std::snprintf(buf, sizeof buf, "%s t%" PRIu64 " last=%" PRIu64 "/t%" PRIu64, msg_type_name(m),
                    m.term, m.index, m.index_term);
      break;
    case raft::MsgType::kRequestVoteResponse:
      std::snprintf(buf, sizeof buf, "%s t%" PRIu64 " %s", msg_type_name(m), m.term,
                    m.granted ? "granted" : "denied");
      break;
    case raft::MsgType::kAppendEntries:
      std::snprintf(buf, sizeof buf,
                    "append t%" PRIu64 " prev=%" PRIu64 "/t%" PRIu64 " n=%u commit=%" PRIu64,
                    m.term, m.index, m.index_term, m.entries, m.commit);
      break;
    case raft::MsgType::kAppendEntriesResponse:
      if (m.success) {
        std::snprintf(buf, sizeof buf, "append-resp t%" PRIu64 " ok match=%" PRIu64, m.term,
                      m.index);
      } else {
        std::snprintf(buf, sizeof buf,
                      "append-resp t%" PRIu64 " reject=%" PRIu64 " hint=%" PRIu64 "/t%" PRIu64,
                      m.term, m.index, m.commit, m.index_term);
      }
      break;
    case raft::MsgType::kInstallSnapshot:
      std::snprintf(buf, sizeof buf,
                    "snapshot t%" PRIu64 " at=%" PRIu64 "/t%" PRIu64 " off=%" PRIu64
                    " len=%u of %" PRIu64,
                    m.term, m.index, m.index_term, m.offset, m.entries, m.size);
      break;
    case raft::MsgType::kInstallSnapshotResponse:
      std::snprintf(buf, sizeof buf,
                    "snapshot-resp t%" PRIu64 " %s at=%" PRIu64 " next=%" PRIu64 "%s", m.term,
                    m.success ? "ok" : "partial", m.index, m.offset, m.rewind ? " rewind" : "");
      break;
  }
  return buf;
}

void Trace::note(std::uint64_t time_us, Rec kind, std::uint32_t a, const char* fmt, ...) {
  TraceRec r;
  r.time_us = time_us;
  r.kind = kind;
  r.a = a;
  std::va_list args;
  va_start(args, fmt);
  std::vsnprintf(r.note, sizeof r.note, fmt, args);
  va_end(args);
  add(r);
}

void Trace::print(FILE* out, const TraceRec& r) {
  const unsigned long long ms = r.time_us / 1000, us = r.time_us % 1000;
  std::fprintf(out, "  %8llu.%03llu ", ms, us);
  switch (r.kind) {
    case Rec::kSend:
      std::fprintf(out, "send    %u->%u %s\n", r.a, r.b, describe(r.msg).c_str());
      break;
    case Rec::kDeliver:
      std::fprintf(out, "deliver %u->%u %s\n", r.a, r.b, describe(r.msg).c_str());
      break;
    case Rec::kDrop:
      std::fprintf(out, "drop    %u->%u %s (%s)\n", r.a, r.b, describe(r.msg).c_str(), r.note);
      break;
    case Rec::kPoll:
      std::fprintf(out, "poll    %u at local %llums\n", r.a, static_cast<unsigned long long>(r.x));
      break;
    case Rec::kPropose:
      std::fprintf(out, "propose %u id=%llu\n", r.a, static_cast<unsigned long long>(r.x));
      break;
    case Rec::kTransition:
      std::fprintf(out, "report  %u id=%llu %s\n", r.a, static_cast<unsigned long long>(r.x),
                   r.note);
      break;
    case Rec::kApply:
      std::fprintf(out, "apply   %u index=%llu id=%llu\n", r.a,
                   static_cast<unsigned long long>(r.x), static_cast<unsigned long long>(r.y));
      break;
    case Rec::kRole:
      std::fprintf(out, "state   %u %s term=%llu\n", r.a, r.note,
                   static_cast<unsigned long long>(r.x));
      break;
    case Rec::kFault:
      std::fprintf(out, "fault   %s\n", r.note);
      break;
    case Rec::kClient:
      std::fprintf(out, "client  %u %s\n", r.a, r.note);
      break;
    case Rec::kNote:
      std::fprintf(out, "note    %s\n", r.note);
      break;
  }
}

void Trace::dump(FILE* out, std::size_t n) const {
  if (n > ring_.size()) n = ring_.size();
  if (n > next_) n = static_cast<std::size_t>(next_);
  for (std::uint64_t i = next_ - n; i < next_; ++i) print(out, ring_[i % ring_.size()]);
}

}  // namespace sim
