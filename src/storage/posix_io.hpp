// Small POSIX helpers for the file storage: whole reads and writes that
// retry on EINTR and short counts, and fsync of a directory.  Each returns
// true on success and leaves errno set on failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace raft::storage::posix {

bool write_all(int fd, const void* data, std::size_t len);
bool read_file(const std::string& path, std::vector<std::uint8_t>& out);
bool fsync_dir(const std::string& dir);
// Writes `data` to dir/name atomically: a temporary file, fsync, rename,
// directory fsync.
bool replace_file(const std::string& dir, const std::string& name, const std::string& data);
// Creates dir and any missing parents (like mkdir -p), fsyncing the parent
// of each directory it creates so the new entries survive a crash.
bool make_dirs(const std::string& dir);
// "operation path: strerror(errno)".
std::string describe(const char* operation, const std::string& path);

}  // namespace raft::storage::posix
