#include "log.hpp"

#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace kv {

namespace {
char g_prefix[64] = "raft-kv";
}

void set_log_prefix(const char* prefix) { std::snprintf(g_prefix, sizeof g_prefix, "%s", prefix); }

void logf(const char* fmt, ...) {
  char text[512];
  std::va_list args;
  va_start(args, fmt);
  std::vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm parts{};
  localtime_r(&tv.tv_sec, &parts);
  // One fprintf per line: lines from several processes sharing a terminal
  // or file do not interleave mid-line.
  std::fprintf(stderr, "%02d:%02d:%02d.%03d [%s] %s\n", parts.tm_hour, parts.tm_min, parts.tm_sec,
               static_cast<int>(tv.tv_usec / 1000), g_prefix, text);
}

}  // namespace kv
