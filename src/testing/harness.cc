#include "testing/harness.h"
#include "testing/paths.h"

#include <unistd.h>

#include <atomic>
#include <fstream>

namespace tandem::testing {
namespace fs = std::filesystem;

namespace {

std::unique_ptr<pg::EmbeddedServer>& ServerSlot() {
  static std::unique_ptr<pg::EmbeddedServer> server;
  return server;
}

}  // namespace

pg::EmbeddedServer* SharedServer(std::string* error) {
  static std::string start_error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    auto server = pg::EmbeddedServer::Start();
    if (server.ok()) {
      ServerSlot() = std::move(server).value();
    } else {
      start_error = server.status().ToString();
    }
  }
  if (!ServerSlot() && error) *error = start_error;
  return ServerSlot().get();
}

TempDir::TempDir() {
  char templ[] = "/tmp/tandem-test-XXXXXX";
  if (!mkdtemp(templ)) std::abort();
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempDir::Write(const std::string& relative, const std::string& contents) const {
  fs::path p = path_ / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << contents;
}

std::string TempDir::Read(const std::string& relative) const {
  auto text = ReadFile((path_ / relative).string());
  return text.ok() ? *text : "";
}

void PgTest::SetUp() {
  std::string error;
  pg::EmbeddedServer* server = SharedServer(&error);
  ASSERT_NE(server, nullptr) << "the test harness could not start PostgreSQL:\n" << error;
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "_" + info->name();
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
  database_ = "t" + std::to_string(++counter) + "_" + name.substr(0, 40);
  auto admin_url = pg::ParseDatabaseUrl(server->Url("postgres"));
  ASSERT_TRUE(admin_url.ok());
  auto admin = pg::Connection::Open(*admin_url);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  Status created =
      (*admin)->Exec("CREATE DATABASE " + pg::QuoteIdentifier(database_) + " TEMPLATE template0");
  ASSERT_TRUE(created.ok()) << created.ToString();
  url_ = server->Url(database_);
}

void PgTest::TearDown() {
  if (database_.empty()) return;
  std::string error;
  pg::EmbeddedServer* server = SharedServer(&error);
  if (!server) return;
  auto admin_url = pg::ParseDatabaseUrl(server->Url("postgres"));
  auto admin = pg::Connection::Open(*admin_url);
  if (!admin.ok()) return;
  (*admin)->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(database_) + " WITH (FORCE)");
}

std::unique_ptr<pg::Connection> PgTest::Connect() {
  auto url = pg::ParseDatabaseUrl(url_);
  EXPECT_TRUE(url.ok());
  auto connection = pg::Connection::Open(*url);
  EXPECT_TRUE(connection.ok()) << connection.status().ToString();
  return connection.ok() ? std::move(connection).value() : nullptr;
}

std::string PgTest::QueryValue(const std::string& sql) {
  auto connection = Connect();
  if (!connection) return "";
  auto result = connection->Query(sql);
  EXPECT_TRUE(result.ok()) << sql << ": " << result.status().ToString();
  if (!result.ok() || result->rows() == 0 || result->columns() == 0) return "";
  return result->Get(0, 0);
}

ProcessOutput RunTandem(const std::vector<std::string>& args, const std::string& cwd,
                        const std::vector<std::string>& env) {
  std::vector<std::string> argv = {TANDEM_BINARY_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  // Tests control the environment: no DATABASE_URL leaks in from the developer's shell.
  std::vector<std::string> full_env = {"DATABASE_URL=", "TANDEM_DATABASE_URL=", "NO_COLOR=1"};
  full_env.insert(full_env.end(), env.begin(), env.end());
  auto out = RunAndCapture(argv, full_env, cwd);
  if (!out.ok()) {
    ADD_FAILURE() << "could not run tandem: " << out.status().ToString();
    return {};
  }
  return *out;
}

}  // namespace tandem::testing
