// raft_node_errmsg is per thread: concurrent failures on other threads never
// overwrite or tear the message a thread is reading.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "raft.h"

namespace {

raft_node* lone_node(std::uint64_t max_queue_bytes) {
  raft_options opt;
  raft_options_init(&opt);
  opt.id = 1;
  opt.max_entry_bytes = 16;
  opt.max_queue_bytes = max_queue_bytes;
  raft_callbacks cb;
  raft_callbacks_init(&cb);
  cb.apply = [](std::uint64_t, const void*, std::size_t, void*) {};
  raft_node* node = nullptr;
  EXPECT_EQ(raft_node_create(&node, &opt, &cb, nullptr), RAFT_OK);
  return node;
}

TEST(NodeErrmsg, EachThreadSeesItsOwnLastError) {
  raft_node* node = lone_node(1 << 20);
  std::atomic<bool> go{false};
  std::atomic<int> wrong{0};
  auto worker = [&](bool too_big) {
    while (!go) {
    }
    char big[64] = {};
    for (int i = 0; i < 2000; ++i) {
      const int rc = too_big ? raft_node_propose(node, 1, big, sizeof big)
                             : raft_node_propose(node, 1, nullptr, 5);
      const std::string msg = raft_node_errmsg(node);
      const bool ok = too_big
                          ? rc == RAFT_ETOOBIG && msg.find("max_entry_bytes") != std::string::npos
                          : rc == RAFT_EINVAL && msg.find("NULL") != std::string::npos;
      if (!ok) ++wrong;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(worker, i % 2 == 0);
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_STREQ(raft_node_errmsg(node), "");  // this thread never failed
  raft_node_destroy(node);
}

}  // namespace
