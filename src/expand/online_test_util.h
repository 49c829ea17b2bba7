// A project test for online migrations through the real binary: release, backfill (jobs
// finalize), complete, and the checks the two-app tests share (no failed query, every row holds
// the last value its app wrote). Used by expand_apps_test.cc and carry_over_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "expand/apps_test_util.h"
#include "testing/project_test.h"

namespace tandem::testing {

class OnlineTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    dir_.Write("tandem.toml", "[release]\nlock_timeout = \"200ms\"\nretry_budget = \"30s\"\n");
  }
  void Release(const std::string& name, const std::string& sql) {
    dir_.Write("db/migrations/" + name, sql);
    auto r = Tandem({"release"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  // Users with an identity key: a name (NOT NULL, default, comment, index) for the old app's
  // half and the new app's half.
  void UsersTable(int rows = 2000) {
    Release("1_users.sql",
            "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY "
            "KEY, name text NOT NULL DEFAULT 'x', n int);\n"
            "CREATE INDEX users_name_idx ON users (name);\n"
            "COMMENT ON COLUMN users.name IS 'the user''s name';\n"
            "INSERT INTO users (name, n) SELECT 'u' || g, g FROM generate_series(1, " +
                std::to_string(rows) + ") g;\n");
  }
  void Backfill(const std::string& version) {
    std::string id = QueryValue(
        "SELECT coalesce(max(id), 0) FROM tandem.jobs WHERE kind = 'background' AND version = '" +
        version + "'");
    ASSERT_NE(id, "0");
    auto r = Tandem({"jobs", "finalize", id});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  void Complete(const std::string& version) {
    auto r = Tandem({"complete", version, "--now"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::string State(const std::string& version) {
    return QueryValue(
        "SELECT coalesce((SELECT state FROM tandem.online_migrations WHERE version = '" + version +
        "'), 'none')");
  }
  void ExpectClean(expand::testing::App& app, const std::string& who) {
    EXPECT_EQ(app.failures(), 0) << who;
    for (const std::string& e : app.errors()) ADD_FAILURE() << who << ": " << e;
    EXPECT_GT(app.rounds(), 20) << who;
  }
  // Every row `app` wrote holds its last value in `column` of `table` now.
  void ExpectLastValues(expand::testing::App& app, const std::string& table,
                        const std::string& column) {
    auto written = app.written();
    ASSERT_FALSE(written.empty());
    // One query for all rows (one per row took seconds for a thousand rows); names the first
    // 20 rows that differ.
    nlohmann::json expected = nlohmann::json::object();
    for (const auto& [id, value] : written) expected[std::to_string(id)] = value;
    auto result = Connect()->Query(
        "SELECT coalesce(string_agg(d, ''), '') FROM (SELECT ' id ' || w.id || ': ' || "
        "coalesce(t." +
            column +
            "::text, '(none)') || ' != ' || w.v AS d FROM "
            "jsonb_each_text($1::jsonb) AS w(id, v) LEFT JOIN " +
            table + " t ON t.id = w.id::bigint WHERE t." + column +
            "::text IS DISTINCT FROM w.v ORDER BY w.id::bigint LIMIT 20) wrong",
        {expected.dump()});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->Get(0, 0), "");
  }
  // The SQLSTATE of running `sql`, "" when it succeeds.
  std::string SqlState(const std::string& sql) {
    Status status = Connect()->Exec(sql);
    return status.ok() ? "" : status.sqlstate();
  }
};

}  // namespace tandem::testing
