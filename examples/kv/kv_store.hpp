// The replicated state machine: a string map, changed only by commands that
// went through the Raft log.  apply() is deterministic (it depends on the
// command bytes and the current map only), so every replica that applies the
// same log holds the same map and the same digest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kv {

enum class Op : unsigned char {
  kPut = 'P',
  kDel = 'D',
  kCas = 'C',
  // A read marker: it changes nothing, but applying it on the leader proves
  // the leader was still the leader when the read was ordered (see README).
  kGet = 'G',
};

struct Command {
  Op op = Op::kGet;
  std::string key, value, expected;  // value: PUT and CAS's new value
};

struct Result {
  enum Kind { kOk, kNotFound, kValue, kMismatch, kMalformed } kind = kOk;
  std::string value;  // kValue: the value read; kMismatch: the current value
};

// The log entry for a command: op byte, then length-prefixed fields.
std::string encode_command(const Command& c);
// Strict: exact lengths, known op, nothing left over.
bool decode_command(const void* data, std::size_t len, Command& out);

class KvStore {
 public:
  // Applies one log entry.  A malformed entry changes nothing (on every
  // replica alike) and yields kMalformed.
  Result apply(const void* data, std::size_t len);

  std::size_t size() const { return map_.size(); }
  std::uint64_t applied() const { return applied_; }
  // Order-independent: the sum of a hash of every (key, value) pair,
  // maintained on each change, so STATUS can report it for free.
  std::uint64_t digest() const { return digest_; }

  // Snapshots: the whole map as bytes (applied count, then each pair as
  // u32 length + bytes, twice; little-endian), and back.  restore() is
  // strict and leaves the store unchanged when the bytes are malformed.
  std::string serialize() const;
  bool restore(const std::string& bytes);

 private:
  void set(const std::string& key, std::string value);
  void erase(std::unordered_map<std::string, std::string>::iterator it);

  std::unordered_map<std::string, std::string> map_;
  std::uint64_t digest_ = 0;
  std::uint64_t applied_ = 0;  // entries applied, malformed ones included
};

std::uint64_t pair_hash(std::string_view key, std::string_view value);

}  // namespace kv
