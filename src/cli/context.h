// What every command shares: the global flags, the merged configuration, loading migrations
// and connecting, and rendering errors as text or JSON. Commands print; the core never does.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/interrupt.h"
#include "base/status.h"
#include "config/config.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::cli {

enum class Format { kText, kJson };

struct GlobalFlags {
  std::string format = "text";
  std::string config;
  std::string database_url;
  std::string dir;
  std::string layout;
  std::string schema;
  std::optional<std::string> lock_wait;  // unset: the configured value
  // A fleet (tandem.toml [[targets]], [fleet]): NAME, group:NAME or all; the commands that
  // serve a fleet run through RunOnFleet (fleet_command.h).
  std::string target;
  std::optional<int> concurrency;   // unset: [fleet] concurrency
  std::optional<int> max_failures;  // unset: [fleet] max_failures
};

class Context {
 public:
  Context(std::ostream& out, std::ostream& err);

  GlobalFlags flags;
  std::string working_directory;
  std::ostream& out;
  std::ostream& err;

  Format format() const { return flags.format == "json" ? Format::kJson : Format::kText; }
  // The merged configuration (loaded once).
  Result<config::Config> LoadConfig();
  Result<migrate::MigrationSet> LoadMigrations(const config::Config& config);
  // One database. With targets configured, refuses (kInvalidInput) unless a URL was given by
  // flag or environment, rather than guess which database is meant; refuses --target, which
  // only the commands that serve a fleet take (they check ForFleet() first).
  Result<std::unique_ptr<pg::Connection>> Connect(const config::Config& config);
  // True when --target was given: the command runs over the fleet (RunOnFleet).
  bool ForFleet() const { return !flags.target.empty(); }

  // Prints the error (text on stderr, or a JSON object on stdout) and returns its exit code.
  int Fail(const Status& status);

 private:
  std::optional<Result<config::Config>> config_;
};

// For the commands that change the database (up, down, release): while alive, SIGINT and
// SIGTERM cancel the statement running on `connection` and let the command record what
// happened, print its report and exit 128 + the signal, instead of killing the process at once.
// Declare it after the connection it cancels, so that it is destroyed first.
class StopOnSignal {
 public:
  explicit StopOnSignal(pg::Connection& connection)
      : cancel_([&connection] { connection.RequestCancel(); }) {}

 private:
  interrupt::Graceful graceful_;
  interrupt::CancelHook cancel_;
};

// A command registers its subcommand and, when chosen, the function that runs it.
using Runner = std::function<int()>;
using Registration = void (*)(CLI::App& app, Context& context, Runner& selected);

void RegisterInit(CLI::App& app, Context& context, Runner& selected);
void RegisterNew(CLI::App& app, Context& context, Runner& selected);
void RegisterStatus(CLI::App& app, Context& context, Runner& selected);
void RegisterUp(CLI::App& app, Context& context, Runner& selected);
void RegisterDown(CLI::App& app, Context& context, Runner& selected);
void RegisterAdopt(CLI::App& app, Context& context, Runner& selected);
void RegisterDev(CLI::App& app, Context& context, Runner& selected);
// Later commands add their Register function here and to the list in RunCli (context.cc).
void RegisterLint(CLI::App& app, Context& context, Runner& selected);
void RegisterRelease(CLI::App& app, Context& context, Runner& selected);
void RegisterVerify(CLI::App& app, Context& context, Runner& selected);
void RegisterWorker(CLI::App& app, Context& context, Runner& selected);
void RegisterJobs(CLI::App& app, Context& context, Runner& selected);
void RegisterDashboard(CLI::App& app, Context& context, Runner& selected);
void RegisterExpand(CLI::App& app, Context& context, Runner& selected);  // plan, complete, abort

// Runs the CLI; returns the process exit code.
int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace tandem::cli
