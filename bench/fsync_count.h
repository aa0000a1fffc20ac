/* Counts the fdatasync and fsync calls made by the whole process, whoever
 * makes them (our library, canonical raft, libuv's thread pool), so that a
 * benchmark can report how many syncs a committed entry cost.  The counting
 * wrappers in fsync_count.c replace the C library's functions at link time
 * and forward to them through dlsym(RTLD_NEXT). */
#ifndef BENCH_FSYNC_COUNT_H
#define BENCH_FSYNC_COUNT_H

#ifdef __cplusplus
extern "C" {
#endif

unsigned long bench_fdatasync_calls(void);
unsigned long bench_fsync_calls(void);

#ifdef __cplusplus
}
#endif

#endif
