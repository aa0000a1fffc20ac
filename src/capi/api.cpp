// The C ABI: the only extern "C" definitions in libraft.  Each entry point
// checks its arguments, forwards to the node, and turns any C++ exception
// into an error code: nothing may unwind into a C caller.
#include <cstdio>
#include <new>

#include "capi/handle.hpp"
#include "common/error_text.hpp"
#include "node/snapshot_io.hpp"
#include "raft.h"

namespace {

// Stringize helpers so the version string always matches the macros.
#define RAFT_STR2(x) #x
#define RAFT_STR(x) RAFT_STR2(x)
constexpr const char kVersionString[] =
    RAFT_STR(RAFT_VERSION_MAJOR) "." RAFT_STR(RAFT_VERSION_MINOR) "." RAFT_STR(RAFT_VERSION_PATCH);

// Runs f, mapping exceptions to codes.  Node methods do not throw by design;
// this is the last line of defence (std::bad_alloc from a container).
template <typename F>
int guarded(F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return RAFT_ENOMEM;
  } catch (...) {
    return RAFT_EINTERNAL;
  }
}

}  // namespace

extern "C" {

RAFT_API uint32_t raft_version_number(void) { return RAFT_VERSION_NUMBER; }

RAFT_API const char* raft_version_string(void) { return kVersionString; }

RAFT_API const char* raft_strerror(int code) { return raft::error_text(code); }

RAFT_API void raft_options_init(raft_options* opt) {
  if (opt == nullptr) return;
  *opt = raft_options{};
  opt->version = RAFT_OPTIONS_VERSION;
  opt->heartbeat_ms = 50;
  opt->election_timeout_min_ms = 150;
  opt->election_timeout_max_ms = 300;
  opt->pre_vote = 1;
  opt->check_quorum = 1;
  opt->max_batch_bytes = 1u << 20;
  opt->max_inflight = 64;
  opt->max_entry_bytes = 4u << 20;
  opt->max_queue_bytes = 64ull << 20;
  opt->log_level = RAFT_LOG_WARN;
  opt->snapshot_interval = 0;
  opt->snapshot_trailing = 1024;
  opt->max_snapshot_chunk_bytes = 1u << 20;
  opt->busy_poll_us = 20;
  opt->max_uncommitted_bytes = 256ull << 20;
}

RAFT_API void raft_callbacks_init(raft_callbacks* cb) {
  if (cb == nullptr) return;
  *cb = raft_callbacks{};
  cb->version = RAFT_CALLBACKS_VERSION;
}

RAFT_API void raft_status_init(raft_status* st) {
  if (st == nullptr) return;
  *st = raft_status{};
  st->version = RAFT_STATUS_VERSION;
}

RAFT_API void raft_storage_init(raft_storage* st) {
  if (st == nullptr) return;
  *st = raft_storage{};
  st->version = RAFT_STORAGE_VERSION;
}

RAFT_API int raft_node_create(raft_node** out, const raft_options* opt, const raft_callbacks* cb,
                              void* user) {
  if (out == nullptr) return RAFT_EINVAL;
  *out = nullptr;
  return guarded([&] {
    std::unique_ptr<raft::node::Node> impl;
    const int rc = raft::node::Node::create(opt, cb, user, impl);
    if (rc != RAFT_OK) return rc;
    auto* handle = new (std::nothrow) raft_node{std::move(impl)};
    if (handle == nullptr) return RAFT_ENOMEM;
    *out = handle;
    return RAFT_OK;
  });
}

RAFT_API void raft_node_destroy(raft_node* node) {
  if (node == nullptr || node->impl->in_callback()) return;
  delete node;
}

RAFT_API int raft_node_run(raft_node* node) {
  if (node == nullptr) return RAFT_EINVAL;
  return guarded([&] { return node->impl->run(); });
}

RAFT_API int raft_node_poll(raft_node* node, uint64_t now_ms, uint64_t* next_deadline_ms) {
  if (node == nullptr) return RAFT_EINVAL;
  return guarded([&] { return node->impl->poll(now_ms, next_deadline_ms); });
}

RAFT_API int raft_node_propose(raft_node* node, uint64_t id, const void* data, size_t len) {
  if (node == nullptr) return RAFT_EINVAL;
  return guarded([&] { return node->impl->propose(id, data, len); });
}

RAFT_API int raft_node_propose_batch(raft_node* node, const raft_proposal* proposals, size_t n,
                                     size_t* queued) {
  if (queued != nullptr) *queued = 0;
  if (node == nullptr) return RAFT_EINVAL;
  return guarded([&] { return node->impl->propose_batch(proposals, n, queued); });
}

RAFT_API void raft_node_notify(raft_node* node) {
  if (node != nullptr) node->impl->notify();
}

RAFT_API void raft_node_stop(raft_node* node) {
  if (node != nullptr) node->impl->stop();
}

RAFT_API int raft_node_status(raft_node* node, raft_status* st) {
  if (node == nullptr) return RAFT_EINVAL;
  return guarded([&] { return node->impl->status(st); });
}

RAFT_API int raft_snapshot_write(raft_snapshot_writer* w, const void* data, size_t len) {
  return raft::node::snapshot_write(w, data, len);
}

RAFT_API int64_t raft_snapshot_read(raft_snapshot_reader* r, void* buf, size_t cap) {
  return raft::node::snapshot_read(r, buf, cap);
}

RAFT_API const char* raft_node_errmsg(const raft_node* node) {
  if (node == nullptr) return "invalid node";
  return node->impl->errmsg();
}

}  // extern "C"
