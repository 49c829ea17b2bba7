#include "testing/project_test.h"
#include "testing/paths.h"

#include <thread>

namespace tandem::testing {

std::vector<std::string> ProjectTest::Env() const {
  return {"DATABASE_URL=", "TANDEM_DATABASE_URL=" + url(), "NO_COLOR=1",
          "TANDEM_ACTOR=", "SLACK_WEBHOOK_URL="};
}

ProcessOutput ProjectTest::Tandem(const std::vector<std::string>& args,
                                  const std::vector<std::string>& extra_env) const {
  std::vector<std::string> env = Env();
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return RunTandem(args, dir_.path().string(), env);
}

pid_t ProjectTest::Start(const std::vector<std::string>& args, const std::string& log) const {
  SpawnOptions options;
  options.argv = {TANDEM_BINARY_PATH};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = Env();
  options.working_directory = dir_.path().string();
  options.output_path = (dir_.path() / log).string();
  auto pid = Spawn(options);
  EXPECT_TRUE(pid.ok()) << pid.status().ToString();
  return pid.ok() ? *pid : -1;
}

bool ProjectTest::WaitFor(const std::string& sql, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (QueryValue(sql) == "t") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "never became true: " << sql;
  return false;
}

}  // namespace tandem::testing
