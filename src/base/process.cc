#include "base/process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace tandem {
namespace {

int ExitCodeFromWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<pid_t> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Status::Internal("Spawn called without argv");
  // Everything the child needs is prepared before fork: after fork only async-signal-safe
  // calls are allowed (the parent may have threads).
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
  for (const auto& e : options.env) env_storage.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string input = options.input_path.empty() ? "/dev/null" : options.input_path;

  pid_t pid = fork();
  if (pid < 0) return Status::Internal(std::string("could not fork: ") + std::strerror(errno));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // undo any blocking the parent did
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (options.new_session) setsid();
    int in = open(input.c_str(), O_RDONLY);
    if (in >= 0) dup2(in, 0);
    if (!options.output_path.empty()) {
      int out = open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
      }
    }
    if (options.gid) {
      setgroups(0, nullptr);
      if (setgid(*options.gid) != 0) _exit(126);
    }
    if (options.uid && setuid(*options.uid) != 0) _exit(126);
    // After setuid: a credential change clears the parent-death signal.
    if (options.parent_death_signal) prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
    if (!options.working_directory.empty() && chdir(options.working_directory.c_str()) != 0)
      _exit(126);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

Result<int> WaitForExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Internal(std::string("waitpid: ") + std::strerror(errno));
  }
  return ExitCodeFromWaitStatus(status);
}

std::optional<int> PollExit(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return ExitCodeFromWaitStatus(status);
  if (r < 0 && errno == ECHILD) return -1;  // not our child, or already reaped
  return std::nullopt;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidInput("could not read \"" + path + "\": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Failed("could not write \"" + path + "\": " + std::strerror(errno));
  out << contents;
  if (!out) return Status::Failed("could not write \"" + path + "\"");
  return Status::Ok();
}

Result<ProcessOutput> RunAndCapture(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env,
                                    const std::string& working_directory,
                                    const std::string& stdin_text) {
  namespace fs = std::filesystem;
  char dir_template[] = "/tmp/tandem-run-XXXXXX";
  if (!mkdtemp(dir_template)) return Status::Internal("could not create a temporary directory");
  fs::path dir = dir_template;
  std::string in_path = (dir / "in").string(), out_path = (dir / "out").string(),
              err_path = (dir / "err").string();
  TANDEM_RETURN_IF_ERROR(WriteFile(in_path, stdin_text));
  // stdout and stderr to separate files: run through /bin/sh-free redirection by hand.
  std::vector<std::string> wrapped = {
      "/bin/sh", "-c", "exec \"$@\" >\"$TANDEM_RUN_OUT\" 2>\"$TANDEM_RUN_ERR\"", "sh"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  std::vector<std::string> full_env = env;
  full_env.push_back("TANDEM_RUN_OUT=" + out_path);
  full_env.push_back("TANDEM_RUN_ERR=" + err_path);
  SpawnOptions options;
  options.argv = wrapped;
  options.env = full_env;
  options.working_directory = working_directory;
  options.input_path = in_path;
  TANDEM_ASSIGN_OR_RETURN(pid_t pid, Spawn(options));
  TANDEM_ASSIGN_OR_RETURN(int code, WaitForExit(pid));
  ProcessOutput output;
  output.exit_code = code;
  auto out = ReadFile(out_path);
  auto err = ReadFile(err_path);
  output.out = out.ok() ? *out : "";
  output.err = err.ok() ? *err : "";
  std::error_code ec;
  fs::remove_all(dir, ec);
  return output;
}

}  // namespace tandem
