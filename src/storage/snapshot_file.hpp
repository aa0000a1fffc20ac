// The file storage's snapshots: one file `snapshot.<16 hex index>` per
// snapshot, the state machine's bytes followed by a trailer (the meta and a
// checksummed footer).  A new snapshot is written to `snapshot.tmp`, synced,
// renamed into place and the directory synced; only then is the old one
// deleted, so a crash leaves the old or the new one current, never a mix.
// docs/storage-format.md has the bytes and the crash analysis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/message.hpp"

namespace raft::storage {

namespace snapshot_format {
inline constexpr char kMagic[8] = {'L', 'R', 'F', 'T', 'S', 'N', 'A', 'P'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kFooterBytes = 40;
// Appends meta and the footer describing a data part of data_size bytes.
void put_trailer(std::vector<std::uint8_t>& out, Index index, std::uint64_t data_size,
                 const void* meta, std::size_t meta_len);
}  // namespace snapshot_format

class SnapshotFiles {
 public:
  explicit SnapshotFiles(std::string dir) : dir_(std::move(dir)) {}
  ~SnapshotFiles();
  SnapshotFiles(const SnapshotFiles&) = delete;
  SnapshotFiles& operator=(const SnapshotFiles&) = delete;

  // Removes a leftover snapshot.tmp, makes the highest-numbered snapshot
  // current (RAFT_ECORRUPT, naming file, offset and reason, if it does not
  // validate) and removes older ones.
  int open(std::string& why);

  // Each returns RAFT_OK or an error with `why` set.  A failure before the
  // rename abandons the snapshot being written and leaves the current one
  // as it was.  commit sets `unknown` when it failed after the rename: the
  // new snapshot may or may not survive a crash, so the caller must stop.
  int begin(std::string& why);
  int write(const void* data, std::size_t len, std::string& why);
  int commit(Index index, const void* meta, std::size_t meta_len, std::string& why, bool& unknown);
  int read(std::uint64_t offset, void* buf, std::size_t cap, std::size_t* got,
           std::string& why) const;

  Index index() const { return index_; }  // 0: no snapshot
  const std::vector<std::uint8_t>& meta() const { return meta_; }
  std::uint64_t size() const { return size_; }

 private:
  int validate(const std::string& path, Index index, int fd, std::string& why);
  bool flush();
  void abandon();
  std::string path_of(Index index) const;

  const std::string dir_;
  // Current snapshot.
  Index index_ = 0;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::vector<std::uint8_t> meta_;
  // Snapshot being written.
  int tmp_fd_ = -1;
  std::uint64_t tmp_size_ = 0;
  std::uint64_t unsynced_ = 0;  // bytes written since the last fdatasync
  std::vector<std::uint8_t> buffer_;
};

}  // namespace raft::storage
