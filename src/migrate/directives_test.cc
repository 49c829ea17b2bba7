#include "migrate/directives.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tandem::migrate {
namespace {

using ::testing::StartsWith;

Result<Directive> Parse(std::string_view line) { return ParseDirective(line, "m.sql", 7); }

// The error of parsing `line`, as "line:column: message | hint".
std::string Error(std::string_view line) {
  auto r = Parse(line);
  if (r.ok()) return "ok";
  const Status& s = r.status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.location().file, "m.sql");
  return std::to_string(s.location().line) + ":" + std::to_string(s.location().column) + ": " +
         s.message() + " | " + s.hint();
}

TEST(DirectiveTest, RecognisesDirectiveLines) {
  EXPECT_TRUE(IsDirectiveLine("-- tandem:phase post-deploy"));
  EXPECT_TRUE(IsDirectiveLine("--tandem:phase post-deploy"));
  EXPECT_TRUE(IsDirectiveLine("   --   tandem:allow x"));
  EXPECT_FALSE(IsDirectiveLine("-- migrate:up"));
  EXPECT_FALSE(IsDirectiveLine("-- see tandem:phase"));
  EXPECT_FALSE(IsDirectiveLine("SELECT 1 -- tandem:phase background"));
  EXPECT_FALSE(IsDirectiveLine("- tandem:phase"));
}

TEST(DirectiveTest, ParsesPhaseTransactionAndTimeouts) {
  auto d = Parse("-- tandem:phase post-deploy");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, Directive::Kind::kPhase);
  EXPECT_EQ(d->phase, Phase::kPostDeploy);
  EXPECT_EQ(d->word, "tandem:phase");
  EXPECT_EQ(d->location.ToString(), "m.sql:7:4");

  d = Parse("  -- tandem:transaction off  ");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, Directive::Kind::kTransaction);
  EXPECT_FALSE(d->transactional);
  EXPECT_EQ(d->location.column, 6);

  d = Parse("-- tandem:lock-timeout 500ms");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, Directive::Kind::kLockTimeout);
  EXPECT_EQ(d->duration, Duration(500));

  d = Parse("-- tandem:statement-timeout 15min");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, Directive::Kind::kStatementTimeout);
  EXPECT_EQ(d->duration, Duration(15 * 60 * 1000));

  // A blank after the colon is an easy slip and reads the same.
  d = Parse("-- tandem: phase background");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->phase, Phase::kBackground);
}

TEST(DirectiveTest, UnknownDirectiveSuggestsTheClosest) {
  EXPECT_EQ(Error("-- tandem:phaze post-deploy"),
            "7:4: unknown directive \"tandem:phaze\" | did you mean \"tandem:phase\"?");
  EXPECT_EQ(Error("-- tandem:lock_timeout 1s"),
            "7:4: unknown directive \"tandem:lock_timeout\" | did you mean "
            "\"tandem:lock-timeout\"?");
  EXPECT_EQ(Error("-- tandem:frobnicate"),
            "7:4: unknown directive \"tandem:frobnicate\" | valid directives: tandem:phase, "
            "tandem:transaction, tandem:lock-timeout, tandem:statement-timeout, tandem:allow, "
            "tandem:batch, tandem:requires, tandem:online, tandem:down-expression");
  EXPECT_THAT(Error("-- tandem:"), StartsWith("7:4: empty directive "));
}

TEST(DirectiveTest, BadValuesPointAtTheValue) {
  EXPECT_EQ(Error("-- tandem:phase post-deplyo"),
            "7:17: unknown phase \"post-deplyo\" | did you mean \"post-deploy\"?");
  EXPECT_EQ(Error("-- tandem:phase sometime"),
            "7:17: unknown phase \"sometime\" | use pre-deploy, post-deploy or background");
  EXPECT_EQ(Error("-- tandem:phase"),
            "7:4: directive \"tandem:phase\" needs a value | use pre-deploy, post-deploy or "
            "background");
  EXPECT_EQ(Error("-- tandem:transaction maybe"),
            "7:23: invalid value \"maybe\" for \"tandem:transaction\" | use on (the default) or "
            "off");
  EXPECT_EQ(Error("-- tandem:transaction off please"),
            "7:27: unexpected \"please\" after the value of \"tandem:transaction\" | a directive "
            "takes one value; put comments on a line of their own");
  EXPECT_EQ(Error("-- tandem:lock-timeout soon"),
            "7:24: invalid duration \"soon\" for \"tandem:lock-timeout\" | write a number followed "
            "by ms, s, min (or m) or h, for example 500ms or 10min");
  EXPECT_EQ(Error("-- tandem:lock-timeout 3000000s"),
            "7:24: duration \"3000000s\" is too large for \"tandem:lock-timeout\" | use at "
            "most 596h");
  EXPECT_EQ(Error("-- tandem:statement-timeout"),
            "7:4: directive \"tandem:statement-timeout\" needs a value | write a duration, for "
            "example 500ms, 15s or 10min");
}

TEST(DirectiveTest, AllowWithReason) {
  auto d = Parse("-- tandem:allow rename-column \"renamed in the ORM first, see PR 123\"");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, Directive::Kind::kAllow);
  EXPECT_EQ(d->allow.rule, "rename-column");
  EXPECT_EQ(d->allow.reason, "renamed in the ORM first, see PR 123");
  EXPECT_EQ(d->allow.location.ToString(), "m.sql:7:4");

  d = Parse(R"(-- tandem:allow add-index "the \"big\" table is empty")");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->allow.reason, "the \"big\" table is empty");

  d = Parse("-- tandem:allow add-index the table is empty  ");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->allow.reason, "the table is empty");
}

TEST(DirectiveTest, AllowWithoutReasonLoadsWithAnEmptyReason) {
  // The linter reports the missing reason; loading must not fail on it.
  auto d = Parse("-- tandem:allow rename-column");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->allow.rule, "rename-column");
  EXPECT_EQ(d->allow.reason, "");
  d = Parse("-- tandem:allow rename-column \"\"");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->allow.reason, "");
}

TEST(DirectiveTest, AllowWithMalformedRuleIdIsRefused) {
  EXPECT_EQ(Error("-- tandem:allow Rename_Column \"x\""),
            "7:17: invalid rule id \"Rename_Column\" | rule ids are lowercase words joined by "
            "dashes, for example rename-column");
  EXPECT_THAT(Error("-- tandem:allow rename--column"),
              StartsWith("7:17: invalid rule id \"rename"));
  EXPECT_THAT(Error("-- tandem:allow -x"), StartsWith("7:17: invalid rule id \"-x"));
  EXPECT_EQ(Error("-- tandem:allow"),
            "7:4: directive \"tandem:allow\" needs a rule id | write -- tandem:allow <rule-id> "
            "\"why it is safe here\"");
  EXPECT_EQ(Error("-- tandem:allow x \"unterminated"),
            "7:19: unterminated reason in \"tandem:allow\" | close the reason with a double quote "
            "(write \\\" for a quote inside it)");
  EXPECT_THAT(Error("-- tandem:allow x \"why\" more"),
              StartsWith("7:25: unexpected \"more\" after the rea"));
}

TEST(DirectiveTest, Batch) {
  auto d = Parse("-- tandem:batch table=users key=id size=auto");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->batch.table, "users");
  EXPECT_EQ(d->batch.key, "id");
  EXPECT_EQ(d->batch.size, std::nullopt);
  EXPECT_EQ(d->batch.location.ToString(), "m.sql:7:4");

  d = Parse("-- tandem:batch key=user_id table=app.events size=5000");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->batch.table, "app.events");
  EXPECT_EQ(d->batch.size, 5000);

  d = Parse("-- tandem:batch table=users key=id");  // size defaults to auto
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->batch.size, std::nullopt);
}

TEST(DirectiveTest, Requires) {
  auto d = Parse("-- tandem:requires 20260101120000 20260102");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, Directive::Kind::kRequires);
  EXPECT_EQ(d->versions, (std::vector<std::string>{"20260101120000", "20260102"}));
  EXPECT_FALSE(Parse("-- tandem:requires").ok());
  EXPECT_FALSE(Parse("-- tandem:requires 2026'01").ok());
}

TEST(DirectiveTest, OnlineAndDownExpression) {
  auto d = Parse("-- tandem:online");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, Directive::Kind::kOnline);
  EXPECT_THAT(Error("-- tandem:online yes"), StartsWith("7:18: unexpected \"yes\""));
  d = Parse("-- tandem:down-expression  price::text || ''  ");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, Directive::Kind::kDownExpression);
  EXPECT_EQ(d->expression, "price::text || ''");
  EXPECT_THAT(Error("-- tandem:down-expression"),
              StartsWith("7:4: directive \"tandem:down-expression\" needs a value"));
}

TEST(DirectiveTest, BatchErrors) {
  const std::string hint = "write -- tandem:batch table=<table> key=<column> size=auto";
  EXPECT_EQ(Error("-- tandem:batch table=users"),
            "7:4: directive \"tandem:batch\" needs key=<column> | " + hint);
  EXPECT_EQ(Error("-- tandem:batch key=id"),
            "7:4: directive \"tandem:batch\" needs table=<table> | " + hint);
  EXPECT_EQ(Error("-- tandem:batch table=users key=id sise=10"),
            "7:36: unknown batch setting \"sise\" | did you mean \"size\"?");
  EXPECT_EQ(Error("-- tandem:batch table=users key=id size=0"),
            "7:41: invalid batch size \"0\" | use auto (tandem adapts the size to the time each "
            "batch takes) or a positive number of rows");
  EXPECT_THAT(Error("-- tandem:batch table=users key=id size=lots"),
              StartsWith("7:41: invalid batch size \"lots\" | use"));
  EXPECT_EQ(Error("-- tandem:batch table=users table=x key=id"),
            "7:29: batch setting \"table\" is given twice | " + hint);
  EXPECT_EQ(Error("-- tandem:batch table= key=id"),
            "7:17: batch setting \"table\" needs a value | " + hint);
  EXPECT_EQ(Error("-- tandem:batch table=users key=id;drop"),
            "7:33: invalid key name \"id;drop\" | " + hint);
}

TEST(DirectiveTest, ScannerAttachesAllowsDirectlyAboveSql) {
  DirectiveScanner scanner("m.sql");
  const char* lines[] = {
      "-- tandem:allow file-rule \"header\"",  // 1: followed by a blank line
      "",                                      // 2
      "-- tandem:allow first-rule \"a\"",      // 3: stacked above SQL
      "-- tandem:allow second-rule \"b\"",     // 4
      "ALTER TABLE t RENAME COLUMN a TO b;",   // 5
      "-- tandem:allow commented \"c\"",       // 6: a comment in between
      "-- why we do this",                     // 7
      "ALTER TABLE t DROP COLUMN c;",          // 8
      "-- tandem:phase post-deploy",           // 9: settings stack too
      "-- tandem:allow with-setting \"d\"",    // 10
      "-- tandem:lock-timeout 1s",             // 11
      "  CREATE INDEX i ON t (b);",            // 12
      "-- tandem:allow trailing \"e\"",        // 13: at the end of the file
  };
  int number = 1;
  for (const char* line : lines) ASSERT_TRUE(scanner.AddLine(line, number++).ok());
  FileDirectives d = std::move(scanner).Finish();
  ASSERT_EQ(d.settings.size(), 2u);
  EXPECT_EQ(d.settings[0].kind, Directive::Kind::kPhase);
  EXPECT_EQ(d.settings[1].kind, Directive::Kind::kLockTimeout);
  ASSERT_EQ(d.file_allows.size(), 3u);
  EXPECT_EQ(d.file_allows[0].rule, "file-rule");
  EXPECT_EQ(d.file_allows[1].rule, "commented");
  EXPECT_EQ(d.file_allows[2].rule, "trailing");
  ASSERT_EQ(d.statement_allows.size(), 3u);
  EXPECT_EQ(d.statement_allows[0].line, 5);
  EXPECT_EQ(d.statement_allows[0].allow.rule, "first-rule");
  EXPECT_EQ(d.statement_allows[1].line, 5);
  EXPECT_EQ(d.statement_allows[1].allow.rule, "second-rule");
  EXPECT_EQ(d.statement_allows[2].line, 12);
  EXPECT_EQ(d.statement_allows[2].allow.rule, "with-setting");
}

TEST(DirectiveTest, ScannerStopsAtTheFirstBadDirective) {
  DirectiveScanner scanner("m.sql");
  EXPECT_TRUE(scanner.AddLine("-- tandem:phase background", 1).ok());
  Status s = scanner.AddLine("-- tandem:phaze background", 2);
  EXPECT_EQ(s.location().ToString(), "m.sql:2:4");
}

FileDirectives Scan(std::vector<std::string> lines) {
  DirectiveScanner scanner("m.sql");
  int number = 1;
  for (const auto& line : lines) EXPECT_TRUE(scanner.AddLine(line, number++).ok());
  return std::move(scanner).Finish();
}

TEST(DirectiveTest, ApplySetsTheMigration) {
  Migration m;
  Status s = ApplyDirectives(
      Scan({"-- tandem:phase background", "-- tandem:transaction off", "-- tandem:lock-timeout 2s",
            "-- tandem:statement-timeout 1h", "-- tandem:batch table=users key=id size=100",
            "-- tandem:allow some-rule \"why\""}),
      true, m);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(m.phase, Phase::kBackground);
  EXPECT_FALSE(m.transactional);
  EXPECT_EQ(m.lock_timeout, Duration(2000));
  EXPECT_EQ(m.statement_timeout, Duration(3'600'000));
  ASSERT_TRUE(m.batch.has_value());
  EXPECT_EQ(m.batch->size, 100);
  ASSERT_EQ(m.file_allows.size(), 1u);
  EXPECT_EQ(m.file_allows[0].reason, "why");
}

TEST(DirectiveTest, ApplyRefusesASettingGivenTwice) {
  Migration m;
  Status s = ApplyDirectives(
      Scan({"-- tandem:phase post-deploy", "", "-- tandem:phase background"}), true, m);
  EXPECT_EQ(s.ToString(),
            "m.sql:3:4: error: directive \"tandem:phase\" is given twice\n"
            "DETAIL: it is first given on line 1\n"
            "HINT: keep one of them");
}

TEST(DirectiveTest, ApplyRefusesABatchOutsideTheBackgroundPhase) {
  Migration m;
  Status s = ApplyDirectives(Scan({"-- tandem:batch table=t key=id"}), true, m);
  EXPECT_EQ(s.ToString(),
            "m.sql:1:4: error: directive \"tandem:batch\" needs the background phase\n"
            "HINT: add \"-- tandem:phase background\", or remove the batch directive");
}

TEST(DirectiveTest, ApplyAcceptsOnlyAllowsInADownFile) {
  Migration m;
  m.paths = {"1_x.up.sql"};
  EXPECT_TRUE(ApplyDirectives(Scan({"-- tandem:allow drop-table \"reverting\""}), false, m).ok());
  ASSERT_EQ(m.file_allows.size(), 1u);
  Status s = ApplyDirectives(Scan({"", "-- tandem:phase post-deploy"}), false, m);
  EXPECT_EQ(s.ToString(),
            "m.sql:2:4: error: directive \"tandem:phase\" is not allowed in a down file\n"
            "HINT: move it to the migration's up file 1_x.up.sql");
}

TEST(DirectiveTest, DbmateMarkerOptions) {
  bool transactional = true;
  EXPECT_TRUE(ApplyMarkerOptions("", {"m.sql", 3, 14}, &transactional).ok());
  EXPECT_TRUE(transactional);
  EXPECT_TRUE(ApplyMarkerOptions(" transaction:true", {"m.sql", 3, 14}, &transactional).ok());
  EXPECT_TRUE(transactional);
  EXPECT_TRUE(ApplyMarkerOptions(" transaction:false", {"m.sql", 3, 14}, &transactional).ok());
  EXPECT_FALSE(transactional);
  Status s = ApplyMarkerOptions("  transaction:no", {"m.sql", 3, 14}, &transactional);
  EXPECT_EQ(s.ToString(),
            "m.sql:3:16: error: unknown migrate marker option \"transaction:no\"\n"
            "HINT: the only option is transaction:false (or transaction:true)");
}

TEST(DirectiveTest, EditDistance) {
  EXPECT_EQ(EditDistance("phaze", "phase"), 1);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("same", "same"), 0);
}

}  // namespace
}  // namespace tandem::migrate
