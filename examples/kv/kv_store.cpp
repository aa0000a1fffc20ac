#include "kv_store.hpp"

#include "net.hpp"

namespace kv {

namespace {

void put_field(std::string& out, const std::string& field) {
  unsigned char len[4];
  put_u32(len, static_cast<std::uint32_t>(field.size()));
  out.append(reinterpret_cast<const char*>(len), 4);
  out.append(field);
}

// Reads one length-prefixed field; false when it does not fit.
bool get_field(const unsigned char*& p, const unsigned char* end, std::string& out) {
  if (end - p < 4) return false;
  const std::uint32_t len = get_u32(p);
  p += 4;
  if (static_cast<std::size_t>(end - p) < len) return false;
  out.assign(reinterpret_cast<const char*>(p), len);
  p += len;
  return true;
}

int field_count(Op op) {
  switch (op) {
    case Op::kPut:
      return 2;
    case Op::kDel:
    case Op::kGet:
      return 1;
    case Op::kCas:
      return 3;
  }
  return -1;
}

std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

std::uint64_t pair_hash(std::string_view key, std::string_view value) {
  // The key's length goes in first so that ("ab","c") and ("a","bc") differ.
  unsigned char len[4];
  put_u32(len, static_cast<std::uint32_t>(key.size()));
  std::uint64_t h = fnv1a(0xcbf29ce484222325ull, {reinterpret_cast<const char*>(len), 4});
  h = fnv1a(fnv1a(h, key), value);
  // splitmix64's finaliser: FNV alone mixes the last bytes poorly, and the
  // digest is a plain sum of these.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::string encode_command(const Command& c) {
  std::string out(1, static_cast<char>(c.op));
  put_field(out, c.key);
  if (c.op == Op::kCas) put_field(out, c.expected);
  if (c.op == Op::kPut || c.op == Op::kCas) put_field(out, c.value);
  return out;
}

bool decode_command(const void* data, std::size_t len, Command& out) {
  if (data == nullptr || len < 1) return false;
  const auto* p = static_cast<const unsigned char*>(data);
  const unsigned char* end = p + len;
  out = Command{};
  out.op = static_cast<Op>(*p++);
  const int fields = field_count(out.op);
  if (fields < 0) return false;
  if (!get_field(p, end, out.key)) return false;
  if (out.op == Op::kCas && !get_field(p, end, out.expected)) return false;
  if (fields >= 2 && !get_field(p, end, out.value)) return false;
  return p == end;
}

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
bool get_u64(const std::string& in, std::size_t& at, std::uint64_t& v) {
  if (in.size() - at < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  at += 8;
  return true;
}
bool get_string(const std::string& in, std::size_t& at, std::string& s) {
  if (in.size() - at < 4) return false;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= std::uint32_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  at += 4;
  if (in.size() - at < n) return false;
  s.assign(in, at, n);
  at += n;
  return true;
}

}  // namespace

std::string KvStore::serialize() const {
  std::string out;
  put_u64(out, applied_);
  put_u64(out, map_.size());
  for (const auto& [key, value] : map_) {
    put_u32(out, static_cast<std::uint32_t>(key.size()));
    out += key;
    put_u32(out, static_cast<std::uint32_t>(value.size()));
    out += value;
  }
  return out;
}

bool KvStore::restore(const std::string& bytes) {
  std::size_t at = 0;
  std::uint64_t applied = 0, count = 0;
  if (!get_u64(bytes, at, applied) || !get_u64(bytes, at, count)) return false;
  std::unordered_map<std::string, std::string> map;
  std::uint64_t digest = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string key, value;
    if (!get_string(bytes, at, key) || !get_string(bytes, at, value)) return false;
    digest += pair_hash(key, value);
    if (!map.emplace(std::move(key), std::move(value)).second) return false;  // duplicate key
  }
  if (at != bytes.size()) return false;
  map_ = std::move(map);
  digest_ = digest;
  applied_ = applied;
  return true;
}

Result KvStore::apply(const void* data, std::size_t len) {
  ++applied_;
  Command c;
  Result r;
  if (!decode_command(data, len, c)) {
    r.kind = Result::kMalformed;
    return r;
  }
  auto it = map_.find(c.key);
  switch (c.op) {
    case Op::kPut:
      set(c.key, std::move(c.value));
      break;
    case Op::kDel:
      if (it == map_.end()) {
        r.kind = Result::kNotFound;
      } else {
        erase(it);
      }
      break;
    case Op::kCas:
      if (it == map_.end()) {
        r.kind = Result::kNotFound;
      } else if (it->second != c.expected) {
        r.kind = Result::kMismatch;
        r.value = it->second;
      } else {
        set(c.key, std::move(c.value));
      }
      break;
    case Op::kGet:
      if (it == map_.end()) {
        r.kind = Result::kNotFound;
      } else {
        r.kind = Result::kValue;
        r.value = it->second;
      }
      break;
  }
  return r;
}

void KvStore::set(const std::string& key, std::string value) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    digest_ -= pair_hash(it->first, it->second);
    it->second = std::move(value);
  } else {
    it = map_.emplace(key, std::move(value)).first;
  }
  digest_ += pair_hash(it->first, it->second);
}

void KvStore::erase(std::unordered_map<std::string, std::string>::iterator it) {
  digest_ -= pair_hash(it->first, it->second);
  map_.erase(it);
}

}  // namespace kv
