#include "client_protocol.hpp"

#include <cctype>
#include <vector>

namespace kv {

namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

// Printable and not a space: what can travel as one word of a text line.
bool printable_word(const std::string& w) {
  for (unsigned char c : w) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Request bad(const std::string& why) {
  Request r;
  r.kind = Request::kBad;
  r.why = why;
  return r;
}

}  // namespace

Request parse_request(const std::string& raw) {
  std::string line = raw;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  for (unsigned char c : line) {
    if (c < 0x20 || c == 0x7f) return bad("control characters in request");
  }
  const std::vector<std::string> w = split_words(line);
  if (w.empty()) return bad("empty request");
  const std::string verb = upper(w[0]);
  Request r;
  if (verb == "STATUS" || verb == "PING" || verb == "QUIT") {
    if (w.size() != 1) return bad(verb + " takes no arguments");
    r.kind = verb == "STATUS" ? Request::kStatus : verb == "PING" ? Request::kPing : Request::kQuit;
    return r;
  }
  std::size_t want;
  if (verb == "PUT") {
    want = 3;
    r.command.op = Op::kPut;
  } else if (verb == "GET") {
    want = 2;
    r.command.op = Op::kGet;
  } else if (verb == "DEL") {
    want = 2;
    r.command.op = Op::kDel;
  } else if (verb == "CAS") {
    want = 4;
    r.command.op = Op::kCas;
  } else {
    return bad("unknown command '" + w[0].substr(0, 32) + "' (PUT GET DEL CAS STATUS PING QUIT)");
  }
  if (w.size() != want) return bad(verb + " takes " + std::to_string(want - 1) + " argument(s)");
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (!printable_word(w[i])) return bad("keys and values must be printable");
  }
  if (w[1].size() > kMaxKey) return bad("key longer than " + std::to_string(kMaxKey) + " bytes");
  for (std::size_t i = 2; i < w.size(); ++i) {
    if (w[i].size() > kMaxValue)
      return bad("value longer than " + std::to_string(kMaxValue) + " bytes");
  }
  r.kind = Request::kCommand;
  r.command.key = w[1];
  if (r.command.op == Op::kPut) r.command.value = w[2];
  if (r.command.op == Op::kCas) {
    r.command.expected = w[2];
    r.command.value = w[3];
  }
  return r;
}

std::string format_result(const Result& r) {
  switch (r.kind) {
    case Result::kOk:
      return "OK\n";
    case Result::kNotFound:
      return "NOTFOUND\n";
    case Result::kValue:
      return "VALUE " + r.value + "\n";
    case Result::kMismatch:
      return "MISMATCH " + r.value + "\n";
    case Result::kMalformed:
      break;
  }
  return "ERR BADREQ malformed log entry\n";
}

}  // namespace kv
