#define _POSIX_C_SOURCE 200809L

#include "test_util.h"

#include <ctype.h>
#include <string.h>
#include <unistd.h>

void log_capture_reset(log_capture* lc) { memset(lc, 0, sizeof *lc); }

void log_capture_cb(raft_log_level level, const char* msg, void* user) {
  log_capture* lc = user;
  /* A NULL message would be a library bug; record it as such. */
  if (msg == NULL) msg = "(null message)";
  lc->lines++;
  if ((int)level >= 0 && (int)level < 5) lc->by_level[level]++;
  lc->last_level = level;
  strncpy(lc->last, msg, sizeof lc->last - 1);
  lc->last[sizeof lc->last - 1] = '\0';
}

int contains_nocase(const char* haystack, const char* needle) {
  size_t n = strlen(needle);
  for (; *haystack != '\0'; haystack++) {
    size_t i = 0;
    while (i < n && haystack[i] != '\0' &&
           tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i])) {
      i++;
    }
    if (i == n) return 1;
  }
  return n == 0;
}

void ignore_apply(uint64_t id, const void* data, size_t len, void* user) {
  (void)id;
  (void)data;
  (void)len;
  (void)user;
}

void test_watchdog(unsigned seconds) { alarm(seconds); }

void send_nowhere(raft_id to, const void* msg, size_t len, void* user) {
  (void)to;
  (void)msg;
  (void)len;
  (void)user;
}

int receive_nothing(const void** msg, size_t* len, void* user) {
  (void)msg;
  (void)len;
  (void)user;
  return 0;
}
