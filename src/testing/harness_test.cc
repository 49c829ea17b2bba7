// The harness itself, and the embedded server it shares with `tandem dev`.
#include "testing/harness.h"

#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <cstdlib>

namespace tandem::testing {
namespace {

class HarnessTest : public PgTest {};

TEST_F(HarnessTest, EachTestGetsItsOwnDatabaseOnARealServer) {
  EXPECT_EQ(QueryValue("SELECT current_database()"), database());
  EXPECT_EQ(QueryValue("SELECT current_setting('application_name')"), "tandem");
  EXPECT_EQ(QueryValue("SELECT current_setting('search_path')"), "public");
  EXPECT_EQ(QueryValue("SELECT current_setting('listen_addresses')"), "127.0.0.1");
  EXPECT_EQ(QueryValue("SELECT current_setting('server_version_num')::int / 10000"), "15");
}

TEST_F(HarnessTest, ServerErrorsKeepSqlStateAndPosition) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  auto result = connection->Query("SELECT nosuchcolumn FROM pg_class");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().sqlstate(), "42703");
  EXPECT_EQ(result.status().statement_position(), 8);
  EXPECT_EQ(result.status().code(), StatusCode::kFailed);
}

TEST_F(HarnessTest, ValuesAreBoundAsParameters) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  auto result = connection->Query("SELECT $1::text || $2::text, $3::text IS NULL",
                                  {"it's", "'; DROP TABLE x; --", std::nullopt});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->Get(0, 0), "it's'; DROP TABLE x; --");
  EXPECT_TRUE(result->GetBool(0, 1));
}

TEST_F(HarnessTest, NoticesAreCaptured) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$").ok());
  auto notices = connection->TakeNotices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].message, "hello 42");
  EXPECT_EQ(notices[0].severity, "NOTICE");
}

TEST(ConnectionTest, UnreachableServerIsUnavailableWithHostAndPortButNoPassword) {
  auto url = pg::ParseDatabaseUrl("postgresql://app:topsecret@127.0.0.1:1/db?connect_timeout=2");
  ASSERT_TRUE(url.ok());
  auto connection = pg::Connection::Open(*url);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), StatusCode::kUnavailable);
  std::string text = connection.status().ToString();
  EXPECT_NE(text.find("127.0.0.1:1"), std::string::npos) << text;
  EXPECT_EQ(text.find("topsecret"), std::string::npos) << text;
}

TEST(EmbeddedServerTest, StartsAndRemovesItsDirectory) {
  auto server = pg::EmbeddedServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::filesystem::path root = (*server)->root();
  EXPECT_TRUE(std::filesystem::exists(root / "data" / "PG_VERSION"));
  auto url = pg::ParseDatabaseUrl((*server)->Url());
  auto connection = pg::Connection::Open(*url);
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  connection->reset();
  ASSERT_TRUE((*server)->Stop().ok());
  EXPECT_FALSE(std::filesystem::exists(root));
}

// TMPDIR picks where the cluster lives (a directory in memory, for benchmarks); as root, only
// a directory the unprivileged server user can traverse qualifies.
TEST(EmbeddedServerTest, ClusterGoesUnderATraversableTmpdir) {
  TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  const char* previous = std::getenv("TMPDIR");
  std::string saved = previous ? previous : "";
  setenv("TMPDIR", dir.path().c_str(), 1);
  auto server = pg::EmbeddedServer::Start();
  previous ? setenv("TMPDIR", saved.c_str(), 1) : unsetenv("TMPDIR");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ((*server)->root().parent_path(), dir.path());
  ASSERT_TRUE((*server)->Stop().ok());
}

// Without TMPDIR a throwaway cluster lives in memory when /dev/shm has room for one, else in
// /tmp; this machine's /dev/shm decides which, and the server starts there either way.
TEST(EmbeddedServerTest, WithoutTmpdirTheClusterGoesToMemoryWhenThereIsRoom) {
  const char* previous = std::getenv("TMPDIR");
  std::string saved = previous ? previous : "";
  unsetenv("TMPDIR");
  std::string parent = pg::ClusterParentDirectory();
  auto server = pg::EmbeddedServer::Start();
  if (previous) setenv("TMPDIR", saved.c_str(), 1);
  struct statvfs space;
  bool room = statvfs(pg::kMemoryDirectory, &space) == 0 &&
              static_cast<uint64_t>(space.f_bavail) * space.f_frsize >= pg::kMinMemoryBytes;
  EXPECT_EQ(parent, room ? pg::kMemoryDirectory : "/tmp");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ((*server)->root().parent_path(), parent);
  ASSERT_TRUE((*server)->Stop().ok());
}

}  // namespace
}  // namespace tandem::testing
