// Throttling by the replication lag of a real streaming standby: a primary of its own (not the
// suite's shared server, whose pg_stat_replication the other tests read), a standby made from it
// with pg_basebackup -R and run as the unprivileged server user, and its replay paused with
// pg_wal_replay_pause() so that the primary's WAL piles up unreplayed.
#include "background/throttle.h"
#include "testing/paths.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "base/process.h"
#include "pg/connection.h"
#include "pg/embedded_server.h"
#include "pg/url.h"
#include "testing/harness.h"

namespace tandem::background {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t size = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// A streaming standby of `primary`, stopped (SIGINT: fast shutdown) and removed at the end.
class Standby {
 public:
  ~Standby() {
    if (pid_ > 0) {
      kill(pid_, SIGINT);
      (void)WaitForExit(pid_);
    }
    if (!root_.empty()) {
      std::error_code ignored;
      fs::remove_all(root_, ignored);
    }
  }

  Status Start(const pg::EmbeddedServer& primary) {
    TANDEM_ASSIGN_OR_RETURN(pg::ServerBinaries binaries, pg::FindServerBinaries());
    // The primary's directory belongs to the server user: the standby's is handed to it too.
    struct stat owner;
    if (stat(primary.root().c_str(), &owner) != 0) return Status::Internal("no primary root");
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    if (geteuid() == 0) {
      uid = owner.st_uid;
      gid = owner.st_gid;
    }
    std::string templ = pg::ClusterParentDirectory() + "/tandem-standby-XXXXXX";
    if (!mkdtemp(templ.data())) return Status::Internal("mkdtemp failed");
    root_ = templ;
    if (uid && chown(templ.c_str(), *uid, *gid) != 0) return Status::Internal("chown failed");
    SpawnOptions backup;
    backup.argv = {(binaries.bindir / "pg_basebackup").string(),
                   "-h",
                   "127.0.0.1",
                   "-p",
                   std::to_string(primary.port()),
                   "-U",
                   "postgres",
                   "-D",
                   (root_ / "data").string(),
                   "-R",
                   "-X",
                   "stream",
                   "--no-sync"};
    backup.output_path = (root_ / "basebackup.log").string();
    backup.uid = uid;
    backup.gid = gid;
    TANDEM_ASSIGN_OR_RETURN(pid_t backup_pid, Spawn(backup));
    TANDEM_ASSIGN_OR_RETURN(int code, WaitForExit(backup_pid));
    if (code != 0) return Status::Internal("pg_basebackup failed: " + Log("basebackup.log"));
    port_ = FreePort();
    SpawnOptions postgres;
    postgres.argv = {(binaries.bindir / "postgres").string(),
                     "-D",
                     (root_ / "data").string(),
                     "-p",
                     std::to_string(port_),
                     "-k",
                     root_.string(),
                     "-c",
                     "listen_addresses=127.0.0.1",
                     "-c",
                     "fsync=off",
                     "-c",
                     "hot_standby=on",
                     "-c",
                     "max_connections=200"};
    postgres.output_path = (root_ / "server.log").string();
    postgres.uid = uid;
    postgres.gid = gid;
    postgres.parent_death_signal = SIGQUIT;
    TANDEM_ASSIGN_OR_RETURN(pid_, Spawn(postgres));
    std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) +
                       " dbname=postgres user=postgres connect_timeout=2";
    for (int i = 0; i < 1500; ++i) {
      if (PQping(ping.c_str()) == PQPING_OK) return Status::Ok();
      if (PollExit(pid_)) {
        pid_ = -1;
        return Status::Internal("the standby exited: " + Log("server.log"));
      }
      std::this_thread::sleep_for(20ms);
    }
    return Status::Internal("the standby did not start: " + Log("server.log"));
  }

  std::string Url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }

 private:
  std::string Log(const std::string& name) const {
    auto out = ReadFile((root_ / name).string());
    return out.ok() ? *out : "";
  }

  fs::path root_;
  int port_ = 0;
  pid_t pid_ = -1;
};

std::unique_ptr<pg::Connection> Open(const std::string& url) {
  auto parsed = pg::ParseDatabaseUrl(url);
  EXPECT_TRUE(parsed.ok());
  auto connection = pg::Connection::Open(*parsed);
  EXPECT_TRUE(connection.ok()) << connection.status().ToString();
  return connection.ok() ? std::move(connection).value() : nullptr;
}

// Polls `sql` on `c` until it returns "t".
bool Eventually(pg::Connection& c, const std::string& sql, std::chrono::seconds limit = 30s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    auto result = c.Query(sql);
    if (result.ok() && result->rows() > 0 && result->Get(0, 0) == "t") return true;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "never became true: " << sql;
  return false;
}

TEST(BackgroundThrottle, AStandbyWhoseReplayIsPausedThrottlesAJobByReplicationLag) {
  auto primary = pg::EmbeddedServer::Start();
  ASSERT_TRUE(primary.ok()) << primary.status().ToString();
  Standby standby;
  Status started = standby.Start(**primary);
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto on_primary = Open((*primary)->Url());
  auto on_standby = Open(standby.Url());
  ASSERT_TRUE(on_primary && on_standby);
  ASSERT_TRUE(Eventually(*on_primary,
                         "SELECT count(*) = 1 FROM pg_stat_replication WHERE state = 'streaming'"));

  // The project: a counter table and a background migration over it, on the primary.
  testing::TempDir dir;
  dir.Write("db/migrations/1_table.sql",
            "-- migrate:up\nCREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
            "INSERT INTO t (id) SELECT g FROM generate_series(1, 2000) g;\n");
  dir.Write("db/migrations/2_count.sql",
            "-- tandem:phase background\n-- tandem:batch table=t key=id size=100\n-- migrate:up\n"
            "UPDATE t SET n = n + 1 WHERE id >= :batch_start AND id < :batch_end;\n");
  auto config = [&](const std::string& bytes) {
    dir.Write("tandem.toml",
              "[worker]\npoll_interval = \"100ms\"\n[background]\nmax_replication_lag = \"1h\"\n"
              "max_replication_lag_bytes = " +
                  bytes + "\n");
  };
  config("0");
  std::vector<std::string> env = {"DATABASE_URL=", "TANDEM_DATABASE_URL=" + (*primary)->Url(),
                                  "NO_COLOR=1"};
  auto release = testing::RunTandem({"release"}, dir.path().string(), env);
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;

  // Replay paused: the standby receives the primary's WAL but does not apply it.
  ASSERT_TRUE(on_standby->Exec("SELECT pg_wal_replay_pause()").ok());
  ASSERT_TRUE(
      on_primary->Exec("CREATE TABLE filler AS SELECT g FROM generate_series(1, 1000) g").ok());
  ASSERT_TRUE(Eventually(*on_primary,
                         "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) > 0 "
                         "FROM pg_stat_replication"));
  // The check itself, against the limit of 0 bytes.
  config::BackgroundSettings limits;
  limits.max_replication_lag = std::chrono::hours(1);
  limits.max_replication_lag_bytes = 0;
  auto why = CheckThrottle(*on_primary, limits, nullptr);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->reason, "replication lag");
  EXPECT_NE(why->value.find("MB behind"), std::string::npos) << why->value;

  // The job, run by the worker: throttled before its first batch, with the reason and value.
  SpawnOptions worker;
  worker.argv = {TANDEM_BINARY_PATH, "worker"};
  worker.env = env;
  worker.working_directory = dir.path().string();
  worker.output_path = (dir.path() / "worker.log").string();
  auto pid = Spawn(worker);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  EXPECT_TRUE(Eventually(*on_primary,
                         "SELECT progress->'throttled'->>'reason' = 'replication lag' AND "
                         "progress->'throttled'->>'value' LIKE '% MB behind' FROM tandem.jobs"))
      << dir.Read("worker.log");
  auto list = testing::RunTandem({"jobs", "list"}, dir.path().string(), env);
  EXPECT_NE(list.out.find("throttled now: replication lag"), std::string::npos) << list.out;
  auto nothing = on_primary->Query("SELECT count(*) FILTER (WHERE n > 0) FROM t");
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->Get(0, 0), "0");  // no batch ran while the standby lagged

  // Replay resumed and the limit raised while the job waits: it goes on and finishes.
  ASSERT_TRUE(on_standby->Exec("SELECT pg_wal_replay_resume()").ok());
  config("1073741824");
  EXPECT_TRUE(Eventually(*on_primary, "SELECT status = 'succeeded' FROM tandem.jobs"))
      << dir.Read("worker.log");
  EXPECT_TRUE(Eventually(*on_primary, "SELECT bool_and(n = 1) FROM t"));
  kill(*pid, SIGTERM);
  (void)WaitForExit(*pid);
}

}  // namespace
}  // namespace tandem::background
