/* Interposed fdatasync/fsync: see fsync_count.h.  Defining the symbols in the
 * executable makes every caller bind to them: objects from a static archive
 * at link time, shared libraries (libraft.so, libuv) through the dynamic
 * symbol table, which the linker fills with executable symbols that a linked
 * shared library references. */
#define _GNU_SOURCE
#include "fsync_count.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

typedef int (*sync_fn)(int);

static unsigned long n_fdatasync;
static unsigned long n_fsync;

/* Several threads may race here; they all store the same pointer. */
static sync_fn resolve(sync_fn* slot, const char* name) {
  sync_fn fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (fn == NULL) {
    void* sym = dlsym(RTLD_NEXT, name);
    /* ISO C has no cast between object and function pointers; copy the bits. */
    memcpy(&fn, &sym, sizeof fn);
    __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
  }
  return fn;
}

int fdatasync(int fd) {
  static sync_fn real;
  sync_fn fn = resolve(&real, "fdatasync");
  __atomic_fetch_add(&n_fdatasync, 1, __ATOMIC_RELAXED);
  if (fn == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return fn(fd);
}

int fsync(int fd) {
  static sync_fn real;
  sync_fn fn = resolve(&real, "fsync");
  __atomic_fetch_add(&n_fsync, 1, __ATOMIC_RELAXED);
  if (fn == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return fn(fd);
}

unsigned long bench_fdatasync_calls(void) {
  return __atomic_load_n(&n_fdatasync, __ATOMIC_RELAXED);
}

unsigned long bench_fsync_calls(void) { return __atomic_load_n(&n_fsync, __ATOMIC_RELAXED); }
