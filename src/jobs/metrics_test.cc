// The metrics against the real server: rows of tandem.jobs and job.* events written with SQL,
// scraped, and the exposition text parsed back to exact values.
#include "jobs/metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "jobs/metrics_test_util.h"
#include "migrate/state.h"
#include "testing/harness.h"

namespace tandem::testing {
namespace {

constexpr const char* kFamilies[] = {
    "tandem_jobs",
    "tandem_jobs_applied_total",
    "tandem_jobs_failed_total",
    "tandem_job_retries_total",
    "tandem_lock_timeouts_total",
    "tandem_job_duration_seconds",
    "tandem_oldest_queued_job_age_seconds",
};
constexpr const char* kLe[] = {"0.1", "0.5", "1", "5", "15", "60", "300", "900", "3600", "+Inf"};

std::string Series(const std::string& name, const std::string& target,
                   std::map<std::string, std::string> labels = {}) {
  labels["target"] = target;
  return SampleKey(name, labels);
}

// Checks what holds for every scrape: each family typed and described once, the eight states
// present, the histogram's buckets cumulative and ending in _count.
void ExpectWellFormed(const Exposition& e, const std::string& target) {
  EXPECT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors);
  for (const char* family : kFamilies) {
    EXPECT_EQ(e.types.count(family), 1u) << family;
    EXPECT_EQ(e.help.count(family), 1u) << family;
  }
  EXPECT_EQ(e.types.at("tandem_jobs"), "gauge");
  EXPECT_EQ(e.types.at("tandem_jobs_applied_total"), "counter");
  EXPECT_EQ(e.types.at("tandem_job_duration_seconds"), "histogram");
  for (std::string_view state : jobs::kJobStates) {
    EXPECT_TRUE(e.Has(Series("tandem_jobs", target, {{"state", std::string(state)}}))) << state;
  }
  double previous = 0;
  for (const char* le : kLe) {
    double bucket = e.Value(Series("tandem_job_duration_seconds_bucket", target, {{"le", le}}));
    EXPECT_GE(bucket, previous) << "le=" << le;
    previous = bucket;
  }
  EXPECT_EQ(previous, e.Value(Series("tandem_job_duration_seconds_count", target)));
}

class MetricsTest : public PgTest {
 protected:
  Exposition Scrape(const std::string& schema, const std::string& target) {
    auto connection = Connect();
    if (!connection) return {};
    auto text = jobs::RenderMetrics(*connection, schema, target);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? ParseExposition(*text) : Exposition{};
  }
  void Sql(pg::Connection& connection, const std::string& sql) {
    auto status = connection.Exec(sql);
    ASSERT_TRUE(status.ok()) << sql << ": " << status.ToString();
  }
};

TEST_F(MetricsTest, NoStateSchemaGivesEverySeriesAtZero) {
  Exposition e = Scrape("tandem", "main");
  ExpectWellFormed(e, "main");
  for (std::string_view state : jobs::kJobStates) {
    EXPECT_EQ(e.Value(Series("tandem_jobs", "main", {{"state", std::string(state)}})), 0);
  }
  for (const char* counter :
       {"tandem_jobs_applied_total", "tandem_jobs_failed_total", "tandem_job_retries_total",
        "tandem_lock_timeouts_total", "tandem_job_duration_seconds_sum",
        "tandem_job_duration_seconds_count", "tandem_oldest_queued_job_age_seconds"}) {
    EXPECT_EQ(e.Value(Series(counter, "main")), 0) << counter;
  }
  EXPECT_EQ(e.Value(Series("tandem_job_duration_seconds_bucket", "main", {{"le", "+Inf"}})), 0);
}

// A state schema from before the jobs table (an older tandem's, or only `events` so far).
TEST_F(MetricsTest, SchemaWithoutJobsTableGivesZeros) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Sql(*c, "CREATE SCHEMA tandem");
  Sql(*c, "CREATE TABLE tandem.events (id bigserial, event text, detail jsonb)");
  Sql(*c,
      "INSERT INTO tandem.events (event, detail) VALUES ('job.succeeded', "
      "'{\"duration_ms\": 5}')");
  Exposition e = Scrape("tandem", "main");
  ExpectWellFormed(e, "main");
  EXPECT_EQ(e.Value(Series("tandem_jobs_applied_total", "main")), 0);
}

TEST_F(MetricsTest, CountsJobsAndEventsExactly) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(migrate::EnsureStateSchema(*c, "tandem").ok());
  // status, seconds since queued: the oldest waiting job is the paused one (300 s); the
  // succeeded one, older still, is not waiting and must not count.
  const std::pair<const char*, int> rows[] = {
      {"queued", 120}, {"queued", 5},       {"queued", 1},      {"awaiting-approval", 60},
      {"running", 30}, {"succeeded", 1000}, {"succeeded", 900}, {"failed", 800},
      {"paused", 300}, {"retrying", 200},
  };
  int version = 1;
  for (const auto& [status, age] : rows) {
    ASSERT_TRUE(c->Exec("INSERT INTO tandem.jobs (kind, version, status, sql, checksum, queued_at) "
                        "VALUES ('post-deploy', $1, $2, 'SELECT 1', 'x', "
                        "now() - make_interval(secs => $3::int))",
                        {std::to_string(version++), status, std::to_string(age)})
                    .ok());
  }
  // event, detail: durations 50 ms, 700 ms, 20 s and 4000 s (above the last bound) from
  // succeeded and failed attempts; retrying and running events' durations are not counted;
  // lock timeouts count on every job.* event and on nothing else.
  const std::pair<const char*, const char*> events[] = {
      {"job.running", R"({"lock_timeouts": 1})"},
      {"job.succeeded", R"({"duration_ms": 50})"},
      {"job.succeeded", R"({"duration_ms": 700, "lock_timeouts": 0})"},
      {"job.failed", R"({"duration_ms": 20000, "lock_timeouts": 2})"},
      {"job.retrying", R"({"duration_ms": 999, "lock_timeouts": 3})"},
      {"job.succeeded", R"({"duration_ms": 4000000})"},
      {"job.queued", R"({})"},
      {"migration.applied", R"({"duration_ms": 10, "lock_timeouts": 10})"},
      {"job.succeeded", R"({"duration_ms": "garbage", "lock_timeouts": "x"})"},
  };
  for (const auto& [event, detail] : events) {
    ASSERT_TRUE(migrate::RecordEvent(*c, "tandem", "1", event, detail).ok());
  }

  Exposition e = Scrape("tandem", "main");
  ExpectWellFormed(e, "main");
  const std::pair<const char*, double> by_state[] = {
      {"queued", 3}, {"awaiting-approval", 1}, {"running", 1}, {"retrying", 1},
      {"paused", 1}, {"succeeded", 2},         {"failed", 1},  {"cancelled", 0},
  };
  for (const auto& [state, n] : by_state) {
    EXPECT_EQ(e.Value(Series("tandem_jobs", "main", {{"state", state}})), n) << state;
  }
  EXPECT_EQ(e.Value(Series("tandem_jobs_applied_total", "main")), 4);
  EXPECT_EQ(e.Value(Series("tandem_jobs_failed_total", "main")), 1);
  EXPECT_EQ(e.Value(Series("tandem_job_retries_total", "main")), 1);
  EXPECT_EQ(e.Value(Series("tandem_lock_timeouts_total", "main")), 6);
  const double cumulative[] = {1, 1, 2, 2, 2, 3, 3, 3, 3, 4};
  for (size_t i = 0; i < std::size(kLe); ++i) {
    EXPECT_EQ(e.Value(Series("tandem_job_duration_seconds_bucket", "main", {{"le", kLe[i]}})),
              cumulative[i])
        << "le=" << kLe[i];
  }
  EXPECT_EQ(e.Value(Series("tandem_job_duration_seconds_count", "main")), 4);
  EXPECT_DOUBLE_EQ(e.Value(Series("tandem_job_duration_seconds_sum", "main")), 4020.75);
  double age = e.Value(Series("tandem_oldest_queued_job_age_seconds", "main"));
  EXPECT_GE(age, 300);
  EXPECT_LT(age, 360);

  // Counters only grow: one more success is one more on the next scrape.
  ASSERT_TRUE(
      migrate::RecordEvent(*c, "tandem", "2", "job.succeeded", R"({"duration_ms": 100})").ok());
  Exposition next = Scrape("tandem", "main");
  EXPECT_EQ(next.Value(Series("tandem_jobs_applied_total", "main")), 5);
  EXPECT_EQ(next.Value(Series("tandem_job_duration_seconds_bucket", "main", {{"le", "0.1"}})), 2);
  EXPECT_DOUBLE_EQ(next.Value(Series("tandem_job_duration_seconds_sum", "main")), 4020.85);
}

// A target name with the characters the format escapes, and a schema name that needs quoting.
TEST_F(MetricsTest, BackgroundJobsInFlightReportTheirProgress) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(migrate::EnsureStateSchema(*c, "tandem").ok());
  Sql(*c,
      "INSERT INTO tandem.jobs (id, kind, version, status, sql, checksum, progress) VALUES "
      "(7, 'background', '20260101', 'running', 'x', 'x', '{\"rows_done\": 1200, "
      "\"estimated_total\": 5000, \"rate\": 321.5, \"throttled_ms\": 2500, \"throttled\": "
      "{\"reason\": \"replication lag\", \"value\": \"6.0s\"}}'), "
      "(8, 'background', '20260102', 'succeeded', 'x', 'x', '{\"rows_done\": 9}'), "
      "(9, 'background', '20260103', 'queued', 'x', 'x', '{}')");
  Exposition e = Scrape("tandem", "main");
  ExpectWellFormed(e, "main");
  auto job = [](const char* id, const char* version) {
    return std::map<std::string, std::string>{{"job", id}, {"version", version}};
  };
  EXPECT_EQ(e.types.at("tandem_background_rows_done"), "gauge");
  EXPECT_EQ(e.Value(Series("tandem_background_rows_done", "main", job("7", "20260101"))), 1200);
  EXPECT_EQ(e.Value(Series("tandem_background_rows_estimated", "main", job("7", "20260101"))),
            5000);
  EXPECT_EQ(e.Value(Series("tandem_background_rows_per_second", "main", job("7", "20260101"))),
            321.5);
  EXPECT_EQ(e.Value(Series("tandem_background_throttled_seconds", "main", job("7", "20260101"))),
            2.5);
  EXPECT_EQ(e.Value(Series("tandem_background_throttled", "main", job("7", "20260101"))), 1);
  EXPECT_EQ(e.Value(Series("tandem_background_throttled", "main", job("9", "20260103"))), 0);
  EXPECT_EQ(e.Value(Series("tandem_background_rows_done", "main", job("9", "20260103"))), 0);
  // A finished job drops out.
  EXPECT_FALSE(e.Has(Series("tandem_background_rows_done", "main", job("8", "20260102"))));
}

TEST_F(MetricsTest, EscapesLabelValuesAndQuotesTheSchema) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  const std::string schema = "my \"state\" {buckets} {s}";
  ASSERT_TRUE(migrate::EnsureStateSchema(*c, schema).ok());
  ASSERT_TRUE(c->Exec("INSERT INTO " + pg::QuoteIdentifier(schema) +
                      ".jobs (kind, version, status, sql, checksum) "
                      "VALUES ('post-deploy', '1', 'queued', 'SELECT 1', 'x')")
                  .ok());
  const std::string target = "shard \"7\"\\eu\nwest";
  auto text = jobs::RenderMetrics(*c, schema, target);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_NE(text->find(R"(target="shard \"7\"\\eu\nwest")"), std::string::npos) << *text;
  Exposition e = ParseExposition(*text);
  ExpectWellFormed(e, target);
  EXPECT_EQ(e.Value(Series("tandem_jobs", target, {{"state", "queued"}})), 1);
  // Every line is one sample or one comment: the newline in the name did not split a line.
  EXPECT_EQ(e.samples.size(), 8u + 4u + 12u + 1u);
}

TEST_F(MetricsTest, SeveralTargetsShareEachFamilyHeader) {
  jobs::JobMetrics a, b;
  a.applied = 2;
  b.applied = 5;
  b.duration_buckets.fill(1);
  b.duration_count = 1;
  b.duration_sum_seconds = 0.05;
  std::string text = jobs::RenderMetricsText({{"a", a}, {"b", b}});
  Exposition e = ParseExposition(text);
  ExpectWellFormed(e, "a");
  ExpectWellFormed(e, "b");
  EXPECT_EQ(e.Value(Series("tandem_jobs_applied_total", "a")), 2);
  EXPECT_EQ(e.Value(Series("tandem_jobs_applied_total", "b")), 5);
  EXPECT_EQ(e.Value(Series("tandem_job_duration_seconds_sum", "b")), 0.05);
}

}  // namespace
}  // namespace tandem::testing
