// tandem dev: the embedded PostgreSQL users get, through the real binary.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/harness.h"
#include "testing/paths.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

TEST(DevCommandTest, StartsDetachedIsFoundByOtherCommandsAndStops) {
  TempDir project;
  auto start = RunTandem({"dev", "--format", "json"}, project.path().string());
  ASSERT_EQ(start.exit_code, 0) << start.err;
  auto json = nlohmann::json::parse(start.out);
  std::string url = json["url"];
  EXPECT_EQ(url.rfind("postgresql://postgres@127.0.0.1:", 0), 0u) << url;
  EXPECT_TRUE(fs::exists(project.path() / ".tandem" / "dev.json"));
  // A second call reports the running server instead of starting another.
  auto again = RunTandem({"dev"}, project.path().string());
  EXPECT_EQ(again.out, url + "\n");
  // Commands without a configured URL use it.
  project.Write("db/migrations/1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  auto up = RunTandem({"up"}, project.path().string());
  EXPECT_EQ(up.exit_code, 0) << up.err;
  auto stop = RunTandem({"dev", "--stop", "--format", "json"}, project.path().string());
  EXPECT_EQ(stop.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(stop.out)["stopped"]);
  EXPECT_FALSE(fs::exists(project.path() / ".tandem" / "dev.json"));
  pid_t pid = json["pid"];
  EXPECT_NE(kill(pid, 0), 0) << "the server is still running";
  // With no server, commands say how to get a database (exit 2).
  auto status = RunTandem({"status"}, project.path().string());
  EXPECT_EQ(status.exit_code, 2);
  EXPECT_NE(status.err.find("tandem dev"), std::string::npos) << status.err;
}

TEST(DevCommandTest, ForegroundServerIsStoppedAndRemovedOnSigterm) {
  TempDir project;
  SpawnOptions options;
  options.argv = {TANDEM_BINARY_PATH, "dev", "--foreground", "--format", "json"};
  options.working_directory = project.path().string();
  options.output_path = (project.path() / "out.log").string();
  auto pid = Spawn(options);
  ASSERT_TRUE(pid.ok());
  std::string out;
  for (int i = 0; i < 300 && out.find('}') == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    out = project.Read("out.log");
  }
  auto json = nlohmann::json::parse(out.substr(0, out.find('}') + 1), nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << out;
  pid_t server = json["pid"];
  auto state = nlohmann::json::parse(project.Read(".tandem/dev.json"));
  fs::path root = std::string(state["root"]);
  ASSERT_TRUE(fs::exists(root));
  kill(*pid, SIGTERM);
  auto code = WaitForExit(*pid);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGTERM);
  EXPECT_FALSE(fs::exists(root)) << "the data directory was left behind";
  EXPECT_NE(kill(server, 0), 0) << "the server outlived tandem dev";
}

TEST(DevCommandTest, NoServerBinariesNamesThePackageToInstall) {
  TempDir project;
  auto r = RunTandem({"dev"}, project.path().string(), {"TANDEM_PG_BINDIR=/nonexistent"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("apt-get install postgresql-15"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tandem::testing
