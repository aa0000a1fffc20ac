// Unit tests of the key-value store's pure parts: the command codec, the
// state machine and its digest, the client protocol parser and the cluster
// configuration.  The networked parts are tested end to end by kv-crashtest.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "client_protocol.hpp"
#include "config.hpp"
#include "kv_store.hpp"

namespace {

int g_failures = 0, g_checks = 0;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    ++g_checks;                                                                     \
    if (!(cond)) {                                                                  \
      ++g_failures;                                                                 \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                               \
  } while (0)

using kv::Command;
using kv::KvStore;
using kv::Op;
using kv::Request;
using kv::Result;

std::string enc(Op op, const std::string& key, const std::string& value = "",
                const std::string& expected = "") {
  Command c;
  c.op = op;
  c.key = key;
  c.value = value;
  c.expected = expected;
  return kv::encode_command(c);
}

Result run(KvStore& s, const std::string& entry) { return s.apply(entry.data(), entry.size()); }

void test_codec() {
  for (Op op : {Op::kPut, Op::kDel, Op::kCas, Op::kGet}) {
    const std::string e =
        enc(op, "key", op == Op::kPut || op == Op::kCas ? "new" : "", op == Op::kCas ? "old" : "");
    Command c;
    CHECK(kv::decode_command(e.data(), e.size(), c));
    CHECK(c.op == op && c.key == "key");
    if (op == Op::kCas) CHECK(c.expected == "old" && c.value == "new");
    if (op == Op::kPut) CHECK(c.value == "new");
    // Every strict prefix is rejected, and so is trailing junk.
    for (std::size_t n = 0; n < e.size(); ++n) CHECK(!kv::decode_command(e.data(), n, c));
    const std::string longer = e + "x";
    CHECK(!kv::decode_command(longer.data(), longer.size(), c));
  }
  Command c;
  const std::string unknown = "Z" + enc(Op::kGet, "k").substr(1);
  CHECK(!kv::decode_command(unknown.data(), unknown.size(), c));
  CHECK(!kv::decode_command(nullptr, 0, c));
  // A length field pointing far beyond the entry must not be trusted.
  std::string huge = enc(Op::kGet, "k");
  huge[1] = '\xff';
  huge[4] = '\x7f';
  CHECK(!kv::decode_command(huge.data(), huge.size(), c));
}

void test_store() {
  KvStore s;
  CHECK(run(s, enc(Op::kGet, "a")).kind == Result::kNotFound);
  CHECK(run(s, enc(Op::kPut, "a", "1")).kind == Result::kOk);
  Result r = run(s, enc(Op::kGet, "a"));
  CHECK(r.kind == Result::kValue && r.value == "1");
  r = run(s, enc(Op::kCas, "a", "2", "0"));
  CHECK(r.kind == Result::kMismatch && r.value == "1");
  CHECK(run(s, enc(Op::kCas, "a", "2", "1")).kind == Result::kOk);
  CHECK(run(s, enc(Op::kGet, "a")).value == "2");
  CHECK(run(s, enc(Op::kCas, "missing", "2", "1")).kind == Result::kNotFound);
  CHECK(run(s, enc(Op::kDel, "a")).kind == Result::kOk);
  CHECK(run(s, enc(Op::kDel, "a")).kind == Result::kNotFound);
  CHECK(s.size() == 0 && s.digest() == 0);  // back to the empty state's digest
  const std::uint64_t before = s.digest();
  CHECK(run(s, "garbage").kind == Result::kMalformed);
  CHECK(s.digest() == before && s.size() == 0);
  CHECK(s.applied() == 10);
}

void test_digest() {
  // Same contents reached in different orders and through overwrites: same
  // digest.  Different contents: different digest.
  KvStore a, b, c;
  run(a, enc(Op::kPut, "x", "1"));
  run(a, enc(Op::kPut, "y", "2"));
  run(b, enc(Op::kPut, "y", "old"));
  run(b, enc(Op::kPut, "x", "1"));
  run(b, enc(Op::kPut, "y", "2"));
  CHECK(a.digest() == b.digest() && a.digest() != 0);
  run(c, enc(Op::kPut, "x", "2"));
  run(c, enc(Op::kPut, "y", "1"));
  CHECK(c.digest() != a.digest());
  CHECK(kv::pair_hash("ab", "c") != kv::pair_hash("a", "bc"));
}

void test_snapshot() {
  KvStore a;
  run(a, enc(Op::kPut, "k1", "v1"));
  run(a, enc(Op::kPut, "k2", std::string(300, 'x')));
  run(a, enc(Op::kPut, std::string("bin\0key", 7), ""));
  run(a, "garbage");
  const std::string bytes = a.serialize();
  KvStore b;
  run(b, enc(Op::kPut, "stale", "gone"));
  CHECK(b.restore(bytes));
  CHECK(b.size() == 3 && b.digest() == a.digest() && b.applied() == a.applied());
  CHECK(run(b, enc(Op::kGet, "k1")).value == "v1");
  CHECK(run(b, enc(Op::kGet, "stale")).kind == Result::kNotFound);
  // Every truncation and a trailing byte are refused, leaving the store as it was.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    KvStore c;
    run(c, enc(Op::kPut, "keep", "me"));
    const std::uint64_t d = c.digest();
    CHECK(!c.restore(bytes.substr(0, n)));
    CHECK(c.digest() == d && c.size() == 1);
  }
  KvStore c;
  CHECK(!c.restore(bytes + "x"));
  KvStore empty;
  CHECK(c.restore(empty.serialize()) && c.size() == 0 && c.digest() == 0);
}

void test_protocol() {
  Request r = kv::parse_request("PUT k v");
  CHECK(r.kind == Request::kCommand && r.command.op == Op::kPut && r.command.key == "k" &&
        r.command.value == "v");
  r = kv::parse_request("cas  k  old   new\r");  // lower case, extra spaces, CRLF
  CHECK(r.kind == Request::kCommand && r.command.op == Op::kCas && r.command.expected == "old" &&
        r.command.value == "new");
  CHECK(kv::parse_request("get k").command.op == Op::kGet);
  CHECK(kv::parse_request("DEL k").command.op == Op::kDel);
  CHECK(kv::parse_request("STATUS").kind == Request::kStatus);
  CHECK(kv::parse_request("ping").kind == Request::kPing);
  CHECK(kv::parse_request("QUIT").kind == Request::kQuit);
  CHECK(kv::parse_request("").kind == Request::kBad);
  CHECK(kv::parse_request("PUT k").kind == Request::kBad);
  CHECK(kv::parse_request("PUT k v extra").kind == Request::kBad);
  CHECK(kv::parse_request("STATUS now").kind == Request::kBad);
  CHECK(kv::parse_request("FROB k").kind == Request::kBad);
  CHECK(kv::parse_request("PUT k\tv").kind == Request::kBad);
  CHECK(kv::parse_request(std::string("PUT k v\0w", 9)).kind == Request::kBad);
  CHECK(kv::parse_request("GET " + std::string(kv::kMaxKey, 'k')).kind == Request::kCommand);
  CHECK(kv::parse_request("GET " + std::string(kv::kMaxKey + 1, 'k')).kind == Request::kBad);
  CHECK(kv::parse_request("PUT k " + std::string(kv::kMaxValue + 1, 'v')).kind == Request::kBad);
  Result res;
  res.kind = Result::kValue;
  res.value = "v";
  CHECK(kv::format_result(res) == "VALUE v\n");
  res.kind = Result::kMismatch;
  CHECK(kv::format_result(res) == "MISMATCH v\n");
}

void test_config() {
  kv::NodeInfo n;
  std::string why;
  CHECK(kv::parse_node_spec("2=127.0.0.1:7002/127.0.0.1:8002", n, why));
  CHECK(n.id == 2 && n.raft.port == 7002 && n.client.str() == "127.0.0.1:8002");
  for (const char* bad :
       {"0=127.0.0.1:1/127.0.0.1:2", "x=127.0.0.1:1/127.0.0.1:2", "1=127.0.0.1:1",
        "1=localhost:1/127.0.0.1:2", "1=127.0.0.1:0/127.0.0.1:2", "1=127.0.0.1:70000/127.0.0.1:2",
        "1=127.0.0.1:1/127.0.0.1:", "1=127.0.0.1:-1/127.0.0.1:2"}) {
    CHECK(!kv::parse_node_spec(bad, n, why));
  }
  kv::ClusterConfig cfg;
  CHECK(!kv::validate_config(cfg, why));  // empty
  kv::parse_node_spec("1=127.0.0.1:7001/127.0.0.1:8001", n, why);
  cfg.nodes.push_back(n);
  CHECK(kv::validate_config(cfg, why));
  cfg.nodes.push_back(n);
  CHECK(!kv::validate_config(cfg, why));  // duplicate id
  cfg.nodes.back().id = 2;
  CHECK(!kv::validate_config(cfg, why));  // duplicate addresses

  char path[] = "/tmp/kv-unit-config.XXXXXX";
  const int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "# three nodes\ncluster_id 42\n"
        << "node 1 127.0.0.1:7001 127.0.0.1:8001\n"
        << "node 2 127.0.0.1:7002 127.0.0.1:8002  # trailing comment\n\n";
  }
  kv::ClusterConfig file;
  CHECK(kv::load_config_file(path, file, why));
  CHECK(file.cluster_id == 42 && file.nodes.size() == 2 && file.find(2) != nullptr &&
        file.find(3) == nullptr);
  {
    std::ofstream out(path);
    out << "node 1 127.0.0.1:7001\n";  // a missing address
  }
  kv::ClusterConfig broken;
  CHECK(!kv::load_config_file(path, broken, why) && why.find(":1:") != std::string::npos);
  unlink(path);
  CHECK(!kv::load_config_file("/nonexistent/kv.conf", broken, why));
}

}  // namespace

int main() {
  test_codec();
  test_store();
  test_digest();
  test_snapshot();
  test_protocol();
  test_config();
  std::printf("kv unit tests: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
