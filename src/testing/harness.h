// The test harness: one embedded PostgreSQL for the whole suite (the same launcher users get
// from `tandem dev`), a fresh database per test, temporary project directories, and a way to
// run the real `tandem` binary. If no PostgreSQL can be started, tests that need one fail
// with the reason; they never skip.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/process.h"
#include "pg/connection.h"
#include "pg/embedded_server.h"
#include "pg/quote.h"

namespace tandem::testing {

// The suite's server, started on first use; nullptr with *error set when it cannot start.
pg::EmbeddedServer* SharedServer(std::string* error);

// A directory under /tmp removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to path()/relative, creating parent directories.
  void Write(const std::string& relative, const std::string& contents) const;
  std::string Read(const std::string& relative) const;

 private:
  std::filesystem::path path_;
};

// A test with its own database on the shared server, dropped afterwards.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& url() const { return url_; }
  const std::string& database() const { return database_; }
  // A new connection to this test's database; fails the test if it cannot connect.
  std::unique_ptr<pg::Connection> Connect();
  // Runs SQL on a fresh connection and returns the first column of the first row ("" if none).
  std::string QueryValue(const std::string& sql);

 private:
  std::string url_;
  std::string database_;
};

// Runs the real tandem binary with `args` in `cwd`.
ProcessOutput RunTandem(const std::vector<std::string>& args, const std::string& cwd,
                        const std::vector<std::string>& env = {});

}  // namespace tandem::testing
