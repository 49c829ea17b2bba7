// Reading a migrations directory's files with few system calls (see DirectoryFiles).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "migrate/layout_files.h"

namespace tandem::migrate::layout {

Result<DirectoryFiles> DirectoryFiles::Open(const std::string& directory) {
  int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Status::InvalidInput("could not open migrations directory \"" + directory +
                                "\": " + std::strerror(errno));
  }
  return DirectoryFiles(fd, directory);
}

DirectoryFiles::DirectoryFiles(DirectoryFiles&& other) noexcept
    : fd_(other.fd_), directory_(std::move(other.directory_)) {
  other.fd_ = -1;
}

DirectoryFiles::~DirectoryFiles() {
  if (fd_ >= 0) close(fd_);
}

Result<std::string> DirectoryFiles::Read(const std::string& relative) const {
  auto fail = [&] {
    std::string path = directory_ + (directory_.ends_with('/') ? "" : "/") + relative;
    return Status::InvalidInput("could not read \"" + path + "\": " + std::strerror(errno));
  };
  int fd = openat(fd_, relative.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail();
  // Into a buffer reused across files, without an fstat() for the size: migrations are small,
  // and most fit the buffer in one read().
  thread_local std::vector<char> buffer(64 * 1024);
  size_t used = 0;
  while (true) {
    if (used == buffer.size()) buffer.resize(buffer.size() * 2);
    ssize_t n = read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status status = fail();
      close(fd);
      return status;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  close(fd);
  return std::string(buffer.data(), used);
}

bool DirectoryFiles::Exists(const std::string& relative) const {
  struct stat st;
  return fstatat(fd_, relative.c_str(), &st, 0) == 0;
}

}  // namespace tandem::migrate::layout
