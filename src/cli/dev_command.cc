// tandem dev: start the embedded PostgreSQL for this project and print its URL.
//
// By default the server is detached and outlives the command (its location is kept in
// .tandem/dev.json, so other commands find its URL and `tandem dev --stop` stops it).
// With --foreground it runs until Ctrl-C or SIGTERM and then cleans up.
#include <unistd.h>

#include <memory>
#include <thread>

#include "cli/context.h"
#include "config/dev_state.h"
#include "pg/embedded_server.h"

namespace tandem::cli {

void RegisterDev(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("dev", "start a local throwaway PostgreSQL and print its URL");
  struct Flags {
    bool stop = false;
    bool foreground = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_flag("--stop", f->stop, "stop the server started for this project and remove it");
  cmd->add_flag("--foreground", f->foreground, "run until interrupted, then clean up");
  cmd->callback([&context, &selected, f] {
    selected = [&context, f]() -> int {
      const std::string& project = context.working_directory;
      auto state = config::ReadDevState(project);
      bool json = context.format() == Format::kJson;
      if (f->stop) {
        if (!state.ok()) {
          if (json) {
            context.out << nlohmann::json{{"stopped", false}}.dump(2) << "\n";
          } else {
            context.out << "no embedded server is running for this project\n";
          }
          return 0;
        }
        auto server = pg::EmbeddedServer::Adopt(state->pid, state->root, state->port);
        server->Stop();
        config::RemoveDevState(project);
        if (json) {
          context.out << nlohmann::json{{"stopped", true}, {"url", state->url}}.dump(2) << "\n";
        } else {
          context.out << "stopped the embedded server at " << state->url << "\n";
        }
        return 0;
      }
      if (state.ok() && config::DevServerAlive(*state)) {
        if (json) {
          context.out << nlohmann::json{{"url", state->url}, {"started", false}}.dump(2) << "\n";
        } else {
          context.out << state->url << "\n";
        }
        return 0;
      }
      pg::EmbeddedOptions options;
      options.detached = !f->foreground;
      auto server = pg::EmbeddedServer::Start(options);
      if (!server.ok()) return context.Fail(server.status());
      config::DevState s;
      s.pid = (*server)->pid();
      s.port = (*server)->port();
      s.root = (*server)->root().string();
      s.url = (*server)->Url();
      if (Status w = config::WriteDevState(project, s); !w.ok()) return context.Fail(w);
      if (json) {
        context.out << nlohmann::json{{"url", s.url},
                                      {"started", true},
                                      {"pid", s.pid},
                                      {"version", (*server)->version()}}
                           .dump(2)
                    << "\n";
      } else {
        context.out << s.url << "\n";
      }
      context.out.flush();
      if (!f->foreground) {
        (*server)->Release();
        return 0;
      }
      if (!json)
        context.err << "PostgreSQL " << (*server)->version() << " running; Ctrl-C stops it\n";
      // The signal thread (InstallServerCleanupOnSignals) stops the server and exits; remove
      // the pointer file first thing on the way out.
      while (true) pause();
    };
  });
}

}  // namespace tandem::cli
