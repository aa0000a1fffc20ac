/* Includes every cmocka test needs, in the order cmocka requires, plus small
 * helpers shared by the test files. */
#ifndef TESTS_C_SUPPORT_TEST_UTIL_H
#define TESTS_C_SUPPORT_TEST_UTIL_H

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <raft.h>

/* Records what the log callback received (for tests that check diagnostics). */
typedef struct log_capture {
  int lines;
  int by_level[5]; /* indexed by raft_log_level */
  char last[512];
  raft_log_level last_level;
} log_capture;

void log_capture_reset(log_capture* lc);
/* A raft_callbacks.log implementation; `user` must point to a log_capture
 * (or to a struct whose first member is one). */
void log_capture_cb(raft_log_level level, const char* msg, void* user);

/* Case-insensitive substring search. */
int contains_nocase(const char* haystack, const char* needle);

/* Kill the test program (a failure) if it runs longer than `seconds`: a
 * deadlock in the library must fail the suite, not hang it. */
void test_watchdog(unsigned seconds);

/* A no-op apply callback for tests that do not care what is applied. */
void ignore_apply(uint64_t id, const void* data, size_t len, void* user);

/* A transport that sends nowhere and never receives, for nodes whose tests
 * need peers configured but no traffic. */
void send_nowhere(raft_id to, const void* msg, size_t len, void* user);
int receive_nothing(const void** msg, size_t* len, void* user);

#endif
