#include "pg/embedded_server.h"

#include "base/interrupt.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "base/process.h"

namespace tandem::pg {
namespace fs = std::filesystem;

namespace {

std::mutex& LiveMutex() {
  static std::mutex m;
  return m;
}
std::set<EmbeddedServer*>& LiveServers() {
  static std::set<EmbeddedServer*> servers;
  return servers;
}

bool IsServerBindir(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "initdb", ec) && fs::exists(dir / "postgres", ec);
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

Result<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::Internal("could not create a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return Status::Internal("could not find a free port on 127.0.0.1");
  }
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string TailOfFile(const fs::path& path, size_t max_chars = 1500) {
  auto text = ReadFile(path.string());
  if (!text.ok()) return "";
  std::string s = *text;
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  return Trim(s);
}

struct RunAs {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// PostgreSQL refuses to run as root: pick an unprivileged account for the server.
Result<RunAs> ServerAccount() {
  RunAs as;
  if (geteuid() != 0) return as;
  for (const char* name : {"postgres", "nobody"}) {
    if (passwd* pw = getpwnam(name)) {
      as.uid = pw->pw_uid;
      as.gid = pw->pw_gid;
      return as;
    }
  }
  return Status::Unavailable("running as root, and no unprivileged user to run PostgreSQL as")
      .WithHint("create a user named postgres, or run tandem as a normal user");
}

}  // namespace

Result<ServerBinaries> FindServerBinaries() {
  std::vector<fs::path> candidates;
  // An explicit TANDEM_PG_BINDIR is the only place looked at: a wrong setting must not be
  // papered over by whatever else happens to be installed.
  const char* explicit_bindir = std::getenv("TANDEM_PG_BINDIR");
  if (explicit_bindir && *explicit_bindir) {
    fs::path dir = explicit_bindir;
    if (!IsServerBindir(dir)) {
      return Status::Unavailable(
                 "no PostgreSQL server binaries (initdb, postgres) in "
                 "TANDEM_PG_BINDIR=" +
                 dir.string())
          .WithHint(
              "point TANDEM_PG_BINDIR at a server's bin directory, or unset it; install a "
              "server with \"apt-get install postgresql-15\"");
    }
    candidates.push_back(dir);
  }
  // pg_config --bindir: on Debian this is the client's bindir, which holds the server only
  // when the matching server package is installed; checked like any other candidate.
  if (auto out = RunAndCapture({"pg_config", "--bindir"}); out.ok() && out->exit_code == 0)
    candidates.emplace_back(Trim(out->out));
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      if (end > start) candidates.emplace_back(p.substr(start, end - start));
      start = end + 1;
    }
  }
  // Debian and Ubuntu install servers per major version; prefer the newest.
  std::vector<fs::path> versioned;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
    versioned.push_back(entry.path() / "bin");
  std::sort(versioned.begin(), versioned.end(), [](const fs::path& a, const fs::path& b) {
    return std::atoi(a.parent_path().filename().c_str()) >
           std::atoi(b.parent_path().filename().c_str());
  });
  candidates.insert(candidates.end(), versioned.begin(), versioned.end());

  for (const auto& dir : candidates) {
    if (!IsServerBindir(dir)) continue;
    auto out = RunAndCapture({(dir / "postgres").string(), "--version"});
    if (!out.ok() || out->exit_code != 0) continue;
    ServerBinaries binaries;
    binaries.bindir = dir;
    static const std::regex kVersion(R"((\d+)(\.\d+)?)");
    std::smatch m;
    std::string text = out->out;
    if (std::regex_search(text, m, kVersion)) {
      binaries.version = m.str(0);
      binaries.major_version = std::atoi(m.str(1).c_str());
    }
    return binaries;
  }
  return Status::Unavailable("could not find the PostgreSQL server binaries (initdb, postgres)")
      .WithDetail("looked in pg_config --bindir, PATH and /usr/lib/postgresql/*/bin")
      .WithHint("install them with \"apt-get install postgresql-15\", or set TANDEM_PG_BINDIR");
}

std::string ClusterParentDirectory() {
  // As root, the unprivileged server user must be able to reach the directory: /tmp and
  // /dev/shm are world-traversable, a root-only TMPDIR may not be, so root honours TMPDIR only
  // when others may traverse it.
  auto traversable = [](const char* dir) {
    struct stat info;
    return stat(dir, &info) == 0 && S_ISDIR(info.st_mode) && (info.st_mode & S_IXOTH);
  };
  if (const char* env = std::getenv("TMPDIR"); env && *env) {
    if (geteuid() != 0 || traversable(env)) return env;
  }
  // The cluster is deleted when the server stops and runs with fsync off, so a disk gives it
  // no durability, only slower DDL: creating each table's files on this VM's disk tripled the
  // time to apply 1,000 small migrations (docs/benchmarks.md). Memory it is, when there is
  // room: a container's 64 MB /dev/shm is not enough for a cluster that tests fill.
  struct statvfs space;
  if (traversable(kMemoryDirectory) && access(kMemoryDirectory, W_OK) == 0 &&
      statvfs(kMemoryDirectory, &space) == 0 &&
      static_cast<uint64_t>(space.f_bavail) * space.f_frsize >= kMinMemoryBytes) {
    return kMemoryDirectory;
  }
  return "/tmp";
}

Result<std::unique_ptr<EmbeddedServer>> EmbeddedServer::Start(const EmbeddedOptions& options) {
  TANDEM_ASSIGN_OR_RETURN(ServerBinaries binaries, FindServerBinaries());
  TANDEM_ASSIGN_OR_RETURN(RunAs account, ServerAccount());

  std::string tmp = ClusterParentDirectory();
  std::string templ = tmp + "/tandem-pg-XXXXXX";
  if (!mkdtemp(templ.data())) {
    return Status::Unavailable("could not create a directory for the embedded PostgreSQL in " +
                               tmp + ": " + std::strerror(errno));
  }
  std::unique_ptr<EmbeddedServer> server(new EmbeddedServer());
  server->binaries_ = binaries;
  server->root_ = templ;
  if (account.uid && chown(templ.c_str(), *account.uid, *account.gid) != 0) {
    return Status::Unavailable("could not hand " + templ +
                               " to the server user: " + std::strerror(errno));
  }

  fs::path data = server->root_ / "data";
  fs::path log = server->root_ / "server.log";
  SpawnOptions initdb;
  initdb.argv = {(binaries.bindir / "initdb").string(),
                 "-D",
                 data.string(),
                 "-U",
                 "postgres",
                 "-A",
                 "trust",
                 "-E",
                 "UTF8",
                 "--locale=C",
                 "--no-sync"};
  initdb.output_path = (server->root_ / "initdb.log").string();
  initdb.uid = account.uid;
  initdb.gid = account.gid;
  TANDEM_ASSIGN_OR_RETURN(pid_t initdb_pid, Spawn(initdb));
  TANDEM_ASSIGN_OR_RETURN(int initdb_code, WaitForExit(initdb_pid));
  if (initdb_code != 0) {
    return Status::Unavailable("initdb failed with exit code " + std::to_string(initdb_code))
        .WithDetail(TailOfFile(server->root_ / "initdb.log"));
  }

  // A port that was free a moment ago can be taken before the server binds it: retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    TANDEM_ASSIGN_OR_RETURN(int port, PickFreePort());
    SpawnOptions postgres;
    postgres.argv = {(binaries.bindir / "postgres").string(),
                     "-D",
                     data.string(),
                     "-p",
                     std::to_string(port),
                     "-k",
                     server->root_.string(),
                     "-c",
                     "listen_addresses=127.0.0.1",
                     "-c",
                     "fsync=off",
                     "-c",
                     "synchronous_commit=off",
                     "-c",
                     "full_page_writes=off",
                     "-c",
                     "max_connections=200",
                     "-c",
                     "log_min_messages=warning"};
    for (const auto& setting : options.settings) {
      postgres.argv.push_back("-c");
      postgres.argv.push_back(setting);
    }
    postgres.output_path = log.string();
    postgres.uid = account.uid;
    postgres.gid = account.gid;
    postgres.new_session = options.detached;
    // A test binary killed with SIGKILL must not leave servers behind.
    postgres.parent_death_signal = options.detached ? 0 : SIGQUIT;
    TANDEM_ASSIGN_OR_RETURN(pid_t pid, Spawn(postgres));
    server->pid_ = pid;
    server->port_ = port;
    server->child_ = true;
    {
      std::lock_guard<std::mutex> lock(LiveMutex());
      LiveServers().insert(server.get());
    }
    std::string ping = "host=" + server->root_.string() + " port=" + std::to_string(port) +
                       " dbname=postgres user=postgres connect_timeout=2";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(ping.c_str()) == PQPING_OK) return server;
      if (PollExit(pid).has_value()) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string tail = TailOfFile(log);
    if (exited && tail.find("already in use") != std::string::npos) {
      server->pid_ = -1;
      continue;  // lost the race for the port
    }
    Status status = Status::Unavailable(exited ? "the embedded PostgreSQL exited during start-up"
                                               : "the embedded PostgreSQL did not become ready "
                                                 "within 60 s")
                        .WithDetail(tail);
    server->Stop();
    return status;
  }
  server->Stop();
  return Status::Unavailable("could not find a free port for the embedded PostgreSQL");
}

std::unique_ptr<EmbeddedServer> EmbeddedServer::Adopt(pid_t pid, fs::path root, int port) {
  std::unique_ptr<EmbeddedServer> server(new EmbeddedServer());
  server->pid_ = pid;
  server->root_ = std::move(root);
  server->port_ = port;
  server->child_ = false;
  return server;
}

EmbeddedServer::~EmbeddedServer() {
  if (!released_) Stop();
  std::lock_guard<std::mutex> lock(LiveMutex());
  LiveServers().erase(this);
}

void EmbeddedServer::Release() {
  released_ = true;
  std::lock_guard<std::mutex> lock(LiveMutex());
  LiveServers().erase(this);
}

std::string EmbeddedServer::Url(const std::string& dbname) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + dbname;
}

Status EmbeddedServer::Stop() {
  if (pid_ > 0) {
    // SIGINT is PostgreSQL's fast shutdown: disconnect clients, then exit cleanly.
    kill(pid_, SIGINT);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool gone = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (child_) {
        if (PollExit(pid_).has_value()) gone = true;
      } else if (kill(pid_, 0) != 0 && errno == ESRCH) {
        gone = true;
      }
      if (gone) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!gone) {
      kill(pid_, SIGKILL);  // a server that ignores fast shutdown holds nothing we need
      if (child_) WaitForExit(pid_);
    }
    pid_ = -1;
  }
  if (!root_.empty()) {
    std::error_code ec;
    fs::remove_all(root_, ec);
    root_.clear();
  }
  return Status::Ok();
}

void InstallServerCleanupOnSignals() {
  static std::once_flag once;
  std::call_once(once, [] {
    interrupt::AddExitHook([] {
      std::lock_guard<std::mutex> lock(LiveMutex());
      for (EmbeddedServer* server : LiveServers()) server->Stop();
    });
    interrupt::Install();
  });
}

}  // namespace tandem::pg
