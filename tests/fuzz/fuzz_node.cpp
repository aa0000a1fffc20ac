// libFuzzer target: a whole node driven by an arbitrary program of API
// calls (create with fuzzed options, propose, poll, status, stop, destroy)
// and inbound messages, both raw bytes and well-formed frames with hostile
// field values (encoded with the real codec, so they reach the core).
// Besides "no crash, no hang, no sanitizer report" it checks invariants that
// hold whatever peers say: the term and commit index never go back, commit
// never passes the log's end, applied never passes commit.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "capi/handle.hpp"
#include "raft.h"
#include "wire/codec.hpp"
#include "wire/crc32c.hpp"

namespace {

class Input {
 public:
  Input(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  bool empty() const { return n_ == 0; }
  std::uint8_t u8() { return n_ ? (--n_, *d_++) : 0; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | u8();
    return v;
  }
  // A small number most of the time, sometimes anything: indexes and terms
  // near the real ones find more than uniformly random 64-bit values.
  std::uint64_t number() {
    const std::uint8_t kind = u8();
    if (kind < 200) return kind % 16;
    if (kind < 250) return u8();
    return u64();
  }
  std::string bytes(std::size_t max) {
    std::size_t len = u8() % (max + 1);
    len = len < n_ ? len : n_;
    std::string s(reinterpret_cast<const char*>(d_), len);
    d_ += len;
    n_ -= len;
    return s;
  }

 private:
  const std::uint8_t* d_;
  std::size_t n_;
};

struct World {
  std::deque<std::string> inbox;
  std::string current;
  std::uint64_t applied = 0;
  std::uint8_t save_mode = 0;
  std::uint64_t saves = 0;
};

constexpr std::uint64_t kCluster = 5;

void check(raft_node* node, raft::Term& term, raft::Index& commit) {
  const auto& core = node->impl->core();
  if (core.term() < term || core.commit_index() < commit) {
    fprintf(stderr, "term %llu->%llu commit %llu->%llu last %llu role %d\n",
            (unsigned long long)term, (unsigned long long)core.term(), (unsigned long long)commit,
            (unsigned long long)core.commit_index(), (unsigned long long)core.log().last_index(),
            (int)core.role());
    __builtin_trap();
  }
  if (core.commit_index() > core.log().last_index()) __builtin_trap();
  if (core.applied_index() > core.commit_index()) __builtin_trap();
  term = core.term();
  commit = core.commit_index();
}

std::string hostile_frame(Input& in) {
  raft::Message m;
  m.type = static_cast<raft::MsgType>(1 + in.u8() % 6);
  m.from = 2 + in.u8() % 3;  // 2, 3 are peers; 4 is not
  m.to = in.u8() % 8 ? 1 : 9;
  m.term = in.number();
  m.last_log_index = in.number();
  m.last_log_term = in.number();
  m.pre_vote = in.u8() & 1;
  m.granted = in.u8() & 1;
  m.prev_log_index = in.number();
  m.prev_log_term = in.number();
  m.commit = in.number();
  m.success = in.u8() & 1;
  m.match_index = in.number();
  m.reject_index = in.number();
  m.hint_index = in.number();
  m.hint_term = in.number();
  std::vector<std::string> payloads;
  const int n = m.type == raft::MsgType::kAppendEntries ? in.u8() % 5 : 0;
  payloads.reserve(n);
  for (int i = 0; i < n; ++i) {
    payloads.push_back(in.bytes(8));
    raft::EntryView e;
    e.term = in.number();
    e.type = in.u8() & 1 ? raft::EntryType::kCommand : raft::EntryType::kNoop;
    e.id = in.number();
    e.data = reinterpret_cast<const std::uint8_t*>(payloads.back().data());
    e.len = payloads.back().size();
    m.entries.push_back(e);
  }
  std::string chunk;
  if (m.type == raft::MsgType::kInstallSnapshot ||
      m.type == raft::MsgType::kInstallSnapshotResponse) {
    // Mostly a whole, valid small snapshot (so installs happen), sometimes
    // a piece of one or a lie about it.
    chunk = in.bytes(24);
    m.snapshot.index = in.number() + 1;
    m.snapshot.term = in.number() + 1;
    m.snapshot.size = chunk.size() + (in.u8() % 4 == 0 ? in.u8() % 8 : 0);
    m.snapshot.crc = in.u8() % 8 ? raft::wire::crc32c(chunk.data(), chunk.size()) : in.u8();
    m.snapshot.voters = {1, 2, 3};
    if (in.u8() % 16 == 0) m.snapshot.voters = {1, 2, 4};
    m.offset = in.u8() % 4 ? 0 : in.u8() % 8;
    if (m.offset > m.snapshot.size) m.offset = m.snapshot.size;
    const std::size_t room = static_cast<std::size_t>(m.snapshot.size - m.offset);
    if (chunk.size() > room) chunk.resize(room);
    m.chunk = reinterpret_cast<const std::uint8_t*>(chunk.data());
    m.chunk_len = chunk.size();
    m.rewind = in.u8() & 1;
  }
  std::vector<std::uint8_t> out;
  raft::wire::encode(m, in.u8() % 16 ? kCluster : 6, out);
  return std::string(out.begin(), out.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  World world;
  raft_id peers[2] = {2, 3};
  raft_options opt;
  raft_options_init(&opt);
  opt.id = 1;
  opt.peers = peers;
  opt.n_peers = in.u8() % 3;  // 0: a lone voter, which elects itself
  opt.cluster_id = kCluster;
  opt.random_seed = 1 + in.u8();
  opt.pre_vote = in.u8() & 1;
  opt.check_quorum = in.u8() & 1;
  opt.max_batch_bytes = 1 + in.u8() * 16u;
  opt.max_inflight = 1 + in.u8() % 8;
  opt.max_entry_bytes = 1 + in.u8();
  opt.max_queue_bytes = 1 + in.u8() * 64u;
  opt.max_uncommitted_bytes = 1 + in.u8() * 128u;
  opt.log_level = static_cast<raft_log_level>(1 + in.u8() % 4);
  raft_callbacks cb;
  raft_callbacks_init(&cb);
  cb.apply = [](std::uint64_t, const void*, std::size_t, void* u) {
    ++static_cast<World*>(u)->applied;
  };
  cb.send = [](raft_id, const void*, std::size_t, void*) {};
  cb.receive = [](const void** msg, std::size_t* len, void* u) {
    auto* w = static_cast<World*>(u);
    if (w->inbox.empty()) return 0;
    w->current = std::move(w->inbox.front());
    w->inbox.pop_front();
    *msg = w->current.data();
    *len = w->current.size();
    return 1;
  };
  cb.log = [](raft_log_level, const char* text, void*) {
    if (text == nullptr || std::strlen(text) == 0) __builtin_trap();
  };
  // Snapshots: the state is the applied count; saves sometimes take steps
  // or fail.  Loads accept any bytes (the state machine's own validation is
  // not under test here).
  opt.snapshot_interval = in.u8() % 8;
  opt.snapshot_trailing = in.u8() % 4;
  opt.max_snapshot_chunk_bytes = 1 + in.u8() % 16;
  world.save_mode = in.u8();
  cb.snapshot_save = [](raft_snapshot_writer* w, std::uint64_t, void* u) {
    auto* wd = static_cast<World*>(u);
    if (raft_snapshot_write(w, &wd->applied, sizeof wd->applied) != RAFT_OK) return RAFT_EIO;
    ++wd->saves;
    if (wd->save_mode % 3 == 1 && wd->saves % 3 != 0) return RAFT_SNAPSHOT_MORE;
    if (wd->save_mode % 7 == 2) return RAFT_EIO;
    return RAFT_OK;
  };
  cb.snapshot_load = [](raft_snapshot_reader* r, std::uint64_t, void*) {
    char buf[16];
    std::int64_t got;
    while ((got = raft_snapshot_read(r, buf, sizeof buf)) > 0) {
    }
    return got == 0 ? RAFT_OK : static_cast<int>(got);
  };
  raft_node* node = nullptr;
  if (raft_node_create(&node, &opt, &cb, &world) != RAFT_OK) return 0;
  std::uint64_t now = in.u64() >> 24;  // any origin, far from overflow
  raft::Term term = 0;
  raft::Index commit = 0;
  while (!in.empty()) {
    switch (in.u8() % 8) {
      case 0:
        world.inbox.push_back(in.bytes(64));
        break;
      case 1:
      case 2:
        world.inbox.push_back(hostile_frame(in));
        break;
      case 3: {
        // Odd ids go through the batch entry point (a batch of one, so that
        // the input is read exactly as before and old corpus files replay
        // the same runs).
        const std::string payload = in.bytes(16);
        const raft_proposal p{in.number(), payload.data(), payload.size()};
        if (p.id % 2 == 0) {
          (void)raft_node_propose(node, p.id, p.data, p.len);
        } else {
          std::size_t queued = 7;
          const int rc = raft_node_propose_batch(node, &p, 1, &queued);
          if (queued != (rc == RAFT_OK ? 1u : 0u)) __builtin_trap();
        }
        break;
      }
      case 4:
        now += (in.number() % 100000) * 25;
        // fallthrough: time passing is always followed by a turn
      case 5: {
        std::uint64_t next = 0;
        const int rc = raft_node_poll(node, now, &next);
        if (rc != RAFT_OK && rc != RAFT_ESHUTDOWN) {
          fprintf(stderr, "poll: %s: %s\n", raft_strerror(rc), raft_node_errmsg(node));
          __builtin_trap();
        }
        // The next deadline is never in the past (the node would spin), except
        // "now" when a turn stopped early with messages still waiting.
        if (rc == RAFT_OK && next < now) {
          fprintf(stderr, "deadline %llu < now %llu role %d\n", (unsigned long long)next,
                  (unsigned long long)now, (int)node->impl->core().role());
          __builtin_trap();
        }
        check(node, term, commit);
        break;
      }
      case 6: {
        raft_status st;
        raft_status_init(&st);
        if (raft_node_status(node, &st) != RAFT_OK) __builtin_trap();
        if (st.commit_index > st.last_index) __builtin_trap();
        break;
      }
      case 7:
        if (in.u8() == 0) raft_node_stop(node);
        break;
    }
  }
  raft_node_destroy(node);
  return 0;
}
