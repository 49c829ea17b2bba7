// The embedded PostgreSQL: a private, throwaway server that `tandem dev`, `tandem verify`'s
// shadow database and the test harness all start through this one class.
//
// It finds the server binaries (pg_config --bindir, PATH, /usr/lib/postgresql/*/bin), runs
// initdb into a private directory, picks a free port, listens on a unix socket in that
// directory and on 127.0.0.1 only, and waits until the server accepts connections. When tandem
// runs as root the server runs as an unprivileged user (postgres, else nobody), because
// PostgreSQL refuses to run as root. The destructor stops the server and removes the directory
// unless Release() handed it over to outlive this process (`tandem dev`).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace tandem::pg {

struct ServerBinaries {
  std::filesystem::path bindir;  // holds initdb and postgres
  std::string version;           // "15.20"
  int major_version = 0;
};

// kUnavailable naming the Debian package to install when nothing is found.
Result<ServerBinaries> FindServerBinaries();

// Where a new cluster's private directory goes: TMPDIR when set (as root, only when the server
// user can traverse it); else memory (/dev/shm) when it has at least kMinMemoryBytes free;
// else /tmp.
inline constexpr const char* kMemoryDirectory = "/dev/shm";
inline constexpr uint64_t kMinMemoryBytes = uint64_t{1} << 30;
std::string ClusterParentDirectory();

struct EmbeddedOptions {
  // Extra server settings, "name=value" (passed as -c). The defaults trade durability for
  // speed (fsync off), which is right for a throwaway server.
  std::vector<std::string> settings;
  // When true the server is started in its own session and is not tied to our lifetime, so a
  // later process (tandem dev --stop) can stop it.
  bool detached = false;
};

class EmbeddedServer {
 public:
  static Result<std::unique_ptr<EmbeddedServer>> Start(const EmbeddedOptions& options = {});
  // Takes over a detached server started earlier, for stopping it.
  static std::unique_ptr<EmbeddedServer> Adopt(pid_t pid, std::filesystem::path root, int port);
  ~EmbeddedServer();
  EmbeddedServer(const EmbeddedServer&) = delete;
  EmbeddedServer& operator=(const EmbeddedServer&) = delete;

  // postgresql://postgres@127.0.0.1:<port>/<dbname>
  std::string Url(const std::string& dbname = "postgres") const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& root() const { return root_; }
  const std::string& version() const { return binaries_.version; }

  // Fast shutdown, wait, remove the directory. Idempotent.
  Status Stop();
  // Leaves the server running; the destructor will not stop it.
  void Release();

 private:
  EmbeddedServer() = default;

  ServerBinaries binaries_;
  std::filesystem::path root_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool child_ = false;  // our own child (waitpid works), not adopted
  bool released_ = false;
};

// Stops every live EmbeddedServer of this process and exits on SIGINT or SIGTERM. Blocks those
// signals in the calling thread and handles them on a dedicated thread, so call it from main
// before other threads exist.
void InstallServerCleanupOnSignals();

}  // namespace tandem::pg
