// The test fleet: databases created in the harness's cluster, a tandem.toml listing them (plus
// "dead", a target that refuses connections), and the real `tandem` binary run over them.
// Shared by the release tests and the other commands' tests (fleet_*_test.cc).
//
// The databases are created once per suite (CREATE DATABASE costs tens of milliseconds each);
// every test keeps its own state schema and its own table, so tests do not see each other's
// work.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/process.h"
#include "pg/quote.h"
#include "pg/url.h"
#include "testing/harness.h"

namespace tandem::testing {

class FleetFixture : public ::testing::Test {
 protected:
  // For SetUpTestSuite / TearDownTestSuite of each suite.
  static void CreateShards(const std::string& prefix, int count) {
    prefix_ = prefix;
    shards_ = count;
    std::string error;
    pg::EmbeddedServer* server = SharedServer(&error);
    ASSERT_NE(server, nullptr) << error;
    auto admin = Admin();
    ASSERT_NE(admin, nullptr);
    for (int i = 0; i < shards_; ++i) {
      std::string db = Database(i);
      ASSERT_TRUE(admin->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(db)).ok());
      ASSERT_TRUE(
          admin->Exec("CREATE DATABASE " + pg::QuoteIdentifier(db) + " TEMPLATE template0").ok());
    }
  }
  static void DropShards() {
    auto admin = Admin();
    if (!admin) return;
    for (int i = 0; i < shards_; ++i) {
      (void)admin->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(Database(i)) +
                        " WITH (FORCE)");
    }
  }

  static std::string ShardName(int i) {
    char name[16];
    std::snprintf(name, sizeof name, "shard-%02d", i);
    return name;
  }
  static std::unique_ptr<pg::Connection> Admin() { return Open("postgres"); }
  static std::unique_ptr<pg::Connection> Open(const std::string& db) {
    std::string error;
    auto url = pg::ParseDatabaseUrl(SharedServer(&error)->Url(db));
    if (!url.ok()) return nullptr;
    auto c = pg::Connection::Open(*url);
    if (!c.ok()) return nullptr;
    return std::move(*c);
  }
  static std::string Database(int i) { return prefix_ + std::to_string(i); }
  static std::string Url(int i) {
    std::string error;
    return SharedServer(&error)->Url(Database(i));
  }
  // A LIKE pattern matching the suite's databases in pg_stat_activity.datname.
  static std::string DatabasePattern() {
    std::string pattern;
    for (char c : prefix_) {
      if (c == '_' || c == '%') pattern += '\\';
      pattern += c;
    }
    return pattern + "%";
  }

  // A state schema and a table name of the test's own.
  void SetUp() override {
    static int counter = 0;
    schema_ = "tandem_fleet_" + std::to_string(++counter);
    table_ = "items_" + std::to_string(counter);
  }

  // tandem.toml with every shard, shards in `canaries` in group "canary", the first half in
  // group "first-half", plus "dead", a target on a port nothing listens on, when `with_dead`.
  // Group "few": shards 0 to 2 and "dead" (a few databases and an unreachable one).
  void WriteConfig(const std::string& fleet, const std::set<int>& canaries = {},
                   bool with_dead = false, const std::string& extra = "") {
    std::string text = "[database]\nschema = \"" + schema_ + "\"\n" + extra;
    for (int i = 0; i < shards_; ++i) {
      text += "[[targets]]\nname = \"" + ShardName(i) + "\"\nurl = \"" + Url(i) + "\"\n";
      std::string groups;
      if (canaries.count(i)) groups += "\"canary\"";
      if (i < shards_ / 2) groups += std::string(groups.empty() ? "" : ", ") + "\"first-half\"";
      if (i < 3) groups += std::string(groups.empty() ? "" : ", ") + "\"few\"";
      if (!groups.empty()) text += "groups = [" + groups + "]\n";
    }
    if (with_dead) {
      // Port 1 on the loopback: connection refused at once.
      text += "[[targets]]\nname = \"dead\"\nurl_env = \"DEAD_SHARD_URL\"\ngroups = [\"few\"]\n";
    }
    text += "[fleet]\n" + fleet;
    dir_.Write("tandem.toml", text);
  }

  void WriteMigrations(const std::string& extra_statement = "") {
    dir_.Write("db/migrations/1_create.sql", "-- migrate:up\nCREATE TABLE " + table_ +
                                                 " (id bigint PRIMARY KEY);\n" +
                                                 "-- migrate:down\nDROP TABLE " + table_ + ";\n");
    dir_.Write("db/migrations/2_column.sql", "-- migrate:up\nALTER TABLE " + table_ +
                                                 " ADD COLUMN name text;\n" + extra_statement +
                                                 "-- migrate:down\nALTER TABLE " + table_ +
                                                 " DROP COLUMN name;\n");
  }

  ProcessOutput Tandem(const std::vector<std::string>& args) {
    return RunTandem(args, dir_.path().string(),
                     {"DEAD_SHARD_URL=postgresql://postgres@127.0.0.1:1/none"});
  }

  std::string Value(int shard, const std::string& sql) {
    auto c = Open(Database(shard));
    if (!c) return "<no connection>";
    auto r = c->Query(sql);
    if (!r.ok()) return "<error: " + r.status().message() + ">";
    return r->rows() ? r->Get(0, 0) : "";
  }
  // A count from this test's state schema on `shard`; "-1" when the schema was never created
  // (the command never touched the database).
  std::string CountIn(int shard, const std::string& table, const std::string& where = "true") {
    if (Value(shard, "SELECT to_regclass('" + schema_ + "." + table + "') IS NULL") == "t") {
      return "-1";
    }
    return Value(shard, "SELECT count(*) FROM " + schema_ + "." + table + " WHERE " + where);
  }
  std::string Applied(int shard) { return CountIn(shard, "migrations", "status = 'succeeded'"); }
  std::string Events(int shard) { return CountIn(shard, "events"); }

  static nlohmann::json Json(const ProcessOutput& r) {
    try {
      return nlohmann::json::parse(r.out);
    } catch (...) {
      ADD_FAILURE() << "not JSON:\n" << r.out << r.err;
      return {};
    }
  }
  static const nlohmann::json& Entry(const nlohmann::json& report, const std::string& name) {
    for (const auto& t : report["targets"]) {
      if (t["target"] == name) return t;
    }
    static nlohmann::json none;
    ADD_FAILURE() << "no entry for " << name;
    return none;
  }

  inline static std::string prefix_;
  inline static int shards_ = 0;
  TempDir dir_;
  std::string schema_;
  std::string table_;
};

}  // namespace tandem::testing
