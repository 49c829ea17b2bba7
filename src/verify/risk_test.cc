// Size-aware risk without a server: the estimate and severity for a rewrite of a large table
// and a small one, given the sizes the target would report.
#include <gtest/gtest.h>

#include "verify/findings.h"
#include "verify/lint_join.h"
#include "verify/sizes.h"

namespace tandem::verify {
namespace {

MigrationTrace RewriteOf(const std::string& table, double ms) {
  StatementTrace st;
  st.file = "db/migrations/2_x.sql";
  st.line = 2;
  st.sql = "ALTER TABLE " + table + " ALTER COLUMN id TYPE bigint";
  st.locks = {{table, "r", LockMode::kAccessExclusive}, {table, "r", LockMode::kShare}};
  st.rewrites = {table, table + "_pkey"};
  st.scans = {table};
  st.duration_ms = ms;
  MigrationTrace trace;
  trace.version = "2";
  trace.succeeded = true;
  trace.statements = {st};
  return trace;
}

TEST(VerifyRiskTest, LargeRewriteIsAnErrorWithAnEstimate) {
  SizeMap shadow = {{"users", {100000, 40LL << 20, 60LL << 20}}};
  SizeMap target = {{"users", {48e6, 12LL << 30, 14'000'000'000LL}}};
  auto findings = RiskFindings(RewriteOf("users", 600), {&shadow, &target});
  ASSERT_EQ(findings.size(), 1u) << "the scan is part of the rewrite";
  EXPECT_EQ(findings[0].rule, "table-rewrite");
  EXPECT_EQ(findings[0].severity, Severity::kError);
  EXPECT_EQ(findings[0].message.rfind("rewrites users (48M rows, 14 GB): about ", 0), 0u)
      << findings[0].message;
  EXPECT_NE(findings[0].message.find(" min under ACCESS EXCLUSIVE"), std::string::npos)
      << findings[0].message;
}

TEST(VerifyRiskTest, RewriteOfAHundredRowTableIsInfo) {
  SizeMap shadow = {{"tiny", {100, 8192, 16384}}};
  SizeMap target = {{"tiny", {100, 8192, 16384}}};
  auto findings = RiskFindings(RewriteOf("tiny", 1), {&shadow, &target});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kInfo);
  EXPECT_EQ(findings[0].message,
            "rewrites tiny (100 rows, 16 kB): under 1 s under ACCESS EXCLUSIVE");
}

TEST(VerifyRiskTest, WithoutTargetARewriteIsAWarning) {
  SizeMap shadow;
  auto findings = RiskFindings(RewriteOf("users", 3), {&shadow, nullptr});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kWarning);
  EXPECT_NE(findings[0].detail.find("no target database was reachable"), std::string::npos);
}

// A reachable target without the table (a pending migration creates it) is not "unreachable".
TEST(VerifyRiskTest, TargetWithoutTheTableSaysSo) {
  SizeMap shadow;
  SizeMap target = {{"orders", {10, 8192, 16384}}};
  auto findings = RiskFindings(RewriteOf("users", 3), {&shadow, &target});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kWarning);
  EXPECT_NE(findings[0].detail.find("has no such table yet"), std::string::npos)
      << findings[0].detail;
  EXPECT_EQ(findings[0].detail.find("reachable"), std::string::npos) << findings[0].detail;
}

TEST(VerifyRiskTest, LockModesClassifiedByWhatTheyBlock) {
  EXPECT_EQ(DescribeImpact(LockMode::kAccessExclusive), "blocks reads and writes");
  EXPECT_EQ(DescribeImpact(LockMode::kShare), "blocks writes");
  EXPECT_EQ(DescribeImpact(LockMode::kShareRowExclusive), "blocks writes");
  EXPECT_EQ(DescribeImpact(LockMode::kShareUpdateExclusive), "blocks only schema changes");
  EXPECT_TRUE(Conflicts(LockMode::kShareUpdateExclusive, LockMode::kShareUpdateExclusive));
  EXPECT_FALSE(Conflicts(LockMode::kShare, LockMode::kShare));
  EXPECT_EQ(ParseLockMode("ShareRowExclusiveLock"), LockMode::kShareRowExclusive);
  EXPECT_EQ(FormatEstimate({360, 540}), "about 6-9 min");
}

TEST(VerifyLintJoinTest, PredictedRewriteWithoutRelfilenodeChangeIsRefutedToInfo) {
  MigrationTrace trace = RewriteOf("users", 5);
  trace.statements[0].rewrites.clear();  // what the shadow saw: no rewrite
  trace.statements[0].scans.clear();
  lint::Finding predicted;
  predicted.rule = "change-column-type";
  predicted.severity = lint::Severity::kError;
  predicted.file = "db/migrations/2_x.sql";
  predicted.line = 2;
  predicted.migration = "2";
  lint::Finding scan = predicted;
  scan.rule = "set-not-null-scan";
  auto joined = JoinLintFindings({predicted, scan}, {trace});
  ASSERT_EQ(joined.size(), 2u);
  EXPECT_EQ(joined[0].verdict, "refuted");
  EXPECT_EQ(joined[0].severity, Severity::kInfo);
  EXPECT_NE(joined[0].detail.find("no table was rewritten"), std::string::npos);
  EXPECT_EQ(joined[1].verdict, "refuted");

  auto confirmed = JoinLintFindings({predicted}, {RewriteOf("users", 5)});
  ASSERT_EQ(confirmed.size(), 1u);
  EXPECT_EQ(confirmed[0].verdict, "confirmed");
  EXPECT_EQ(confirmed[0].severity, Severity::kError);
}

}  // namespace
}  // namespace tandem::verify
