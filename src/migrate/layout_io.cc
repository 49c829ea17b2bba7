// Reading a migrations directory's files with few system calls (see DirectoryFiles).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/printable.h"
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

namespace {

// Line and column (in characters, as editors count them) of byte `offset`.
SourceLocation LocationAt(const std::string& path, std::string_view text, size_t offset) {
  size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  line_start = (line_start == std::string_view::npos || offset == 0) ? 0 : line_start + 1;
  int line = 1;
  for (size_t i = 0; i < line_start; ++i) line += text[i] == '\n';
  int column = 1;
  for (size_t i = line_start; i < offset; ++i) {
    column += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  }
  return {path, line, column};
}

// PostgreSQL would refuse invalid UTF-8 only once the statement is sent, after tandem's schema
// exists and the migration is recorded as running; and libpq sends a query as a C string, so
// a NUL byte would silently cut the statement short. Both are bad input, found at load.
Status CheckText(const std::string& path, std::string_view text) {
  size_t bad = FindInvalidUtf8(text);
  size_t nul = text.find('\0');
  if (bad == std::string_view::npos && nul == std::string_view::npos) return Status::Ok();
  if (nul < bad) {
    return Status::InvalidInput("migration file contains a NUL byte")
        .WithLocation(LocationAt(path, text, nul))
        .WithHint("remove it: PostgreSQL cannot receive NUL bytes in SQL text");
  }
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[bad]));
  return Status::InvalidInput("migration file is not valid UTF-8")
      .WithLocation(LocationAt(path, text, bad))
      .WithDetail(std::string("byte ") + byte + " does not start a well-formed UTF-8 character")
      .WithHint("save the file as UTF-8 (for example: iconv -f latin1 -t utf-8)");
}

}  // namespace

Result<std::string> DirectoryFiles::Read(const std::string& relative) const {
  std::string path = directory_ + (directory_.ends_with('/') ? "" : "/") + relative;
  auto fail = [&] {
    return Status::InvalidInput("could not read \"" + path + "\": " + std::strerror(errno));
  };
  int fd = openat(fd_, relative.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail();
  // Into a buffer reused across files, without an fstat() for the size: migrations are small,
  // and most fit the buffer in one read(). A larger file is read straight into its string,
  // sized by fstat(), so that it is held once (not in a grown buffer and again in a copy).
  constexpr size_t kBuffer = 64 * 1024;
  thread_local std::vector<char> buffer(kBuffer);
  auto read_into = [&](char* data, size_t capacity, size_t& used) -> bool {
    while (used < capacity) {
      ssize_t n = read(fd, data + used, capacity - used);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      if (n == 0) break;
      used += static_cast<size_t>(n);
    }
    return true;
  };
  size_t used = 0;
  if (!read_into(buffer.data(), kBuffer, used)) {
    Status status = fail();
    close(fd);
    return status;
  }
  std::string text;
  if (used < kBuffer) {
    text.assign(buffer.data(), used);
  } else {
    struct stat st;
    size_t size = fstat(fd, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
    text.resize(std::max(size, kBuffer) + 1);  // +1: notices a file that grew meanwhile
    std::copy(buffer.begin(), buffer.end(), text.begin());
    while (true) {
      if (!read_into(text.data(), text.size(), used)) {
        Status status = fail();
        close(fd);
        return status;
      }
      if (used < text.size()) break;
      text.resize(text.size() * 2);
    }
    text.resize(used);
  }
  close(fd);
  // A byte-order mark is how some Windows editors mark UTF-8; it is not SQL.
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  TANDEM_RETURN_IF_ERROR(CheckText(path, text));
  return text;
}

bool DirectoryFiles::Exists(const std::string& relative) const {
  struct stat st;
  return fstatat(fd_, relative.c_str(), &st, 0) == 0;
}

}  // namespace tandem::migrate::layout
