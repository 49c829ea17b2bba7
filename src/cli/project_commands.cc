// tandem init and tandem new: the commands that write files, never touch a database.
#include <chrono>
#include <filesystem>
#include <memory>

#include "base/process.h"
#include "cli/context.h"
#include "migrate/layouts.h"
#include "migrate/new_migration.h"

namespace tandem::cli {
namespace fs = std::filesystem;

void RegisterInit(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("init", "write tandem.toml and create the migrations directory");
  cmd->callback([&context, &selected] {
    selected = [&context]() -> int {
      fs::path config_path = context.flags.config.empty()
                                 ? fs::path(context.working_directory) / "tandem.toml"
                                 : fs::path(context.flags.config);
      bool wrote_config = false;
      if (!fs::exists(config_path)) {
        Status s = WriteFile(config_path.string(), config::DefaultConfigText());
        if (!s.ok()) return context.Fail(s);
        wrote_config = true;
      }
      auto config = context.LoadConfig();
      if (!config.ok()) return context.Fail(config.status());
      fs::path dir = config->MigrationsPath();
      std::error_code ec;
      bool made_dir = fs::create_directories(dir, ec);
      if (ec) {
        return context.Fail(
            Status::Failed("could not create \"" + dir.string() + "\": " + ec.message()));
      }
      if (context.format() == Format::kJson) {
        context.out << nlohmann::json{{"config", config_path.string()},
                                      {"config_created", wrote_config},
                                      {"migrations_dir", dir.string()},
                                      {"migrations_dir_created", made_dir}}
                           .dump(2)
                    << "\n";
      } else {
        context.out << (wrote_config ? "wrote " : "kept existing ") << config_path.string() << "\n"
                    << (made_dir ? "created " : "kept existing ") << dir.string() << "/\n"
                    << "next: tandem new create_something\n";
      }
      return 0;
    };
  });
}

void RegisterNew(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("new", "create a migration file from a template");
  struct Flags {
    std::string name;
    std::string phase = "pre-deploy";
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("name", f->name, "what the migration does, e.g. add_email_to_users")->required();
  cmd->add_option("--phase", f->phase, "pre-deploy (default), post-deploy or background");
  cmd->callback([&context, &selected, f] {
    selected = [&context, f]() -> int {
      auto phase = migrate::ParsePhase(f->phase);
      if (!phase) {
        return context.Fail(Status::InvalidInput("unknown phase \"" + f->phase + "\"")
                                .WithHint("use pre-deploy, post-deploy or background"));
      }
      auto config = context.LoadConfig();
      if (!config.ok()) return context.Fail(config.status());
      std::string dir = config->MigrationsPath();
      if (!fs::is_directory(dir)) {
        return context.Fail(
            Status::InvalidInput("migrations directory \"" + dir + "\" does not exist")
                .WithHint("run \"tandem init\" or pass --dir"));
      }
      migrate::Layout layout = migrate::Layout::kTandem;
      if (config->layout) {
        layout = *config->layout;
      } else {
        auto existing = context.LoadMigrations(*config);
        if (!existing.ok()) return context.Fail(existing.status());
        if (!existing->migrations.empty()) layout = existing->layout;
      }
      auto path = migrate::WriteNewMigration(dir, layout, f->name, *phase,
                                             std::chrono::system_clock::now());
      if (!path.ok()) return context.Fail(path.status());
      if (context.format() == Format::kJson) {
        context.out << nlohmann::json{{"path", *path},
                                      {"layout", std::string(migrate::LayoutName(layout))},
                                      {"phase", std::string(migrate::PhaseName(*phase))}}
                           .dump(2)
                    << "\n";
      } else {
        context.out << "created " << *path << "\n";
      }
      return 0;
    };
  });
}

}  // namespace tandem::cli
