// The engine around the rules: suppressions, syntax errors, tandem.toml severities, reporter
// goldens, the rule pages in docs/rules/, the whole shared corpus, and the CLI through the
// real binary. Set TANDEM_UPDATE_GOLDENS=1 to rewrite goldens and rule pages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/process.h"
#include "lint/lint_test_util.h"
#include "lint/report.h"
#include "lint/rule.h"
#include "lint/rule_docs.h"
#include "lint/source.h"
#include "migrate/layouts.h"
#include "testing/harness.h"
#include "testing/paths.h"

namespace tandem::lint::testing {
namespace {

using ::tandem::testing::RunTandem;
using ::tandem::testing::TempDir;

bool Update() { return std::getenv("TANDEM_UPDATE_GOLDENS") != nullptr; }

// ../shared/corpus beside the source tree; TANDEM_CORPUS (as bench/lint/run.sh reads it)
// points elsewhere, for a worktree that does not sit beside `shared`.
std::string CorpusDir() {
  const char* env = std::getenv("TANDEM_CORPUS");
  return env && *env ? env : TANDEM_CORPUS_DIR;
}

void CheckGolden(const std::string& relative, const std::string& actual) {
  std::string path = std::string(TANDEM_SOURCE_DIR) + "/" + relative;
  if (Update()) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << actual;
  }
  auto expected = ReadFile(path);
  ASSERT_TRUE(expected.ok()) << path << " missing; run with TANDEM_UPDATE_GOLDENS=1";
  EXPECT_EQ(*expected, actual) << relative;
}

LintUnit Unit(const std::string& text) {
  LintUnit u;
  u.info.file = "db/migrations/20260101000000_demo.sql";
  u.info.version = "20260101000000";
  u.text = text;
  u.text_line = 3;
  return u;
}

std::vector<std::string> Rules(const LintReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.rule);
  return out;
}

TEST(LintSuppression, FileLevelStatementLevelAndMissingReason) {
  LintUnit u = Unit("ALTER TABLE users DROP COLUMN a;\nALTER TABLE users RENAME COLUMN b TO c;\n");
  LintOptions options;
  // File level: drop-column allowed everywhere in the file.
  u.file_allows.push_back({"drop-column", "app ignores it since v41", {u.info.file, 1, 4}});
  auto r = LintSequences({{u}}, Schema(), options);
  EXPECT_EQ(Rules(r), std::vector<std::string>{"rename-column"});
  // Statement level: only the statement starting on that line (line 4 of the file).
  LintUnit s = Unit(u.text);
  s.statement_allows.push_back(
      {4, {"rename-column", "renamed in the ORM first", {s.info.file, 3, 4}}});
  r = LintSequences({{s}}, Schema(), options);
  EXPECT_EQ(Rules(r), std::vector<std::string>{"drop-column"});
  s.statement_allows[0].line = 3;  // on the other statement: allows nothing, and says so
  r = LintSequences({{s}}, Schema(), options);
  EXPECT_EQ(Rules(r), (std::vector<std::string>{"unused-allow", "drop-column", "rename-column"}));
  // Missing reason: the allow is reported as an error itself.
  LintUnit m = Unit(u.text);
  m.file_allows.push_back({"drop-column", "", {m.info.file, 1, 4}});
  m.file_allows.push_back({"no-such-rule", "x", {m.info.file, 2, 4}});
  r = LintSequences({{m}}, Schema(), options);
  EXPECT_EQ(Rules(r), (std::vector<std::string>{"allow-without-reason", "unknown-allow-rule",
                                                "rename-column"}));
  EXPECT_TRUE(r.HasErrors());
}

TEST(LintSuppression, UnusedAllowIsReportedAtTheDirective) {
  LintUnit u = Unit("ALTER TABLE users DROP COLUMN a;\nALTER TABLE users ADD COLUMN b text;\n");
  u.file_allows.push_back({"drop-column", "the app ignores it", {u.info.file, 1, 4}});
  u.file_allows.push_back({"rename-column", "left over", {u.info.file, 2, 4}});
  u.file_allows.push_back({"no-such-rule", "typo", {u.info.file, 2, 4}});
  u.statement_allows.push_back({4, {"drop-column", "not this one", {u.info.file, 3, 1}}});
  auto r = LintSequences({{u}}, Schema(), LintOptions());
  // drop-column's file allow suppressed a finding; the unknown id is unknown-allow-rule's alone.
  ASSERT_EQ(Rules(r),
            (std::vector<std::string>{"unknown-allow-rule", "unused-allow", "unused-allow"}));
  EXPECT_EQ(r.findings[1].line, 2);
  EXPECT_EQ(r.findings[1].column, 4);
  EXPECT_EQ(r.findings[1].message,
            "-- tandem:allow rename-column suppressed nothing: no rename-column finding in this "
            "file");
  EXPECT_EQ(r.findings[2].line, 3);
  EXPECT_EQ(r.findings[2].message,
            "-- tandem:allow drop-column suppressed nothing: no drop-column finding in the "
            "statement on line 4");
  EXPECT_FALSE(r.HasErrors());

  // A rule turned off still uses its allow: it is needed again once the rule is back on.
  LintOptions off;
  off.rule_settings = {{"drop-column", "off"}};
  LintUnit o = Unit(u.text);
  o.file_allows.push_back({"drop-column", "the app ignores it", {o.info.file, 1, 4}});
  EXPECT_TRUE(LintSequences({{o}}, Schema(), off).findings.empty());

  // An allow of unused-allow covers the others.
  LintUnit self = Unit(u.text);
  self.file_allows = u.file_allows;
  self.file_allows.erase(self.file_allows.begin() + 2);  // no-such-rule
  self.file_allows.push_back({"unused-allow", "kept for the next release", {u.info.file, 1, 4}});
  EXPECT_TRUE(LintSequences({{self}}, Schema(), LintOptions()).findings.empty());

  // A file that does not parse was not checked: its allows are not judged.
  LintUnit bad = Unit("ALTER TABLE users ADD COLUMN;\n");
  bad.file_allows = self.file_allows;
  EXPECT_EQ(Rules(LintSequences({{bad}}, Schema(), LintOptions())),
            std::vector<std::string>{"syntax-error"});
}

TEST(LintSuppression, DirectivesFromAFile) {
  TempDir dir;
  dir.Write("1_x.sql",
            "-- tandem:allow drop-column \"the app ignores it since v41\"\n\n-- migrate:up\n"
            "ALTER TABLE users DROP COLUMN a;\n-- tandem:allow rename-column\n"
            "ALTER TABLE users RENAME COLUMN b TO c;\n");
  auto seqs =
      CollectPaths(std::vector<std::string>{(dir.path() / "1_x.sql").string()}, std::nullopt);
  ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
  auto r = LintSequences(*seqs, Schema(), LintOptions());
  EXPECT_EQ(Rules(r), std::vector<std::string>{"allow-without-reason"});
  EXPECT_EQ(r.findings[0].line, 5);
}

TEST(LintEngine, SyntaxErrorIsAFindingWithItsPositionAndLintingGoesOn) {
  LintUnit bad = Unit("SELECT 1;\nALTER TABLE users ADD COLUMN;\n");
  LintUnit good = Unit("DROP TABLE users;\n");
  good.info.file = "db/migrations/2_b.sql";
  auto r = LintSequences({{bad, good}}, Schema(), LintOptions());
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].rule, "syntax-error");
  EXPECT_EQ(r.findings[0].line, 4);
  EXPECT_EQ(r.findings[0].column, 29);
  EXPECT_EQ(r.findings[1].rule, "drop-table");
  EXPECT_EQ(r.files, 2);
}

TEST(LintEngine, ConfigTurnsRulesOffAndChangesSeverity) {
  LintUnit u = Unit("ALTER TABLE users DROP COLUMN a;\nCREATE INDEX i ON users (b);\n");
  LintOptions options;
  options.rule_settings = {{"drop-column", "off"}, {"create-index-non-concurrently", "warning"}};
  auto r = LintSequences({{u}}, Schema(), options);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].severity, Severity::kWarning);
  EXPECT_FALSE(r.HasErrors());
  EXPECT_FALSE(ValidateRuleSettings({{"nope", "off"}}).ok());
  EXPECT_FALSE(ValidateRuleSettings({{"drop-column", "loud"}}).ok());
  EXPECT_TRUE(ValidateRuleSettings({{"drop-column", "info"}}).ok());
}

TEST(LintEngine, PgVersionParsing) {
  EXPECT_EQ(PgVersion::Parse("14.3")->minor, 3);
  EXPECT_EQ(PgVersion::Parse("140002")->major, 14);
  EXPECT_EQ(PgVersion::Parse("140002")->minor, 2);
  EXPECT_EQ(PgVersion::Parse("15")->minor, -1);
  EXPECT_FALSE(PgVersion::Parse("x"));
  EXPECT_FALSE(PgVersion::Parse("3"));
}

LintReport GoldenReport() {
  LintUnit u = Unit(
      "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
      "CREATE INDEX users_email_idx ON users (email);\n"
      "UPDATE users SET plan = 'free';\n");
  return LintSequences({{u}}, Schema(), LintOptions());
}

TEST(LintReporters, Goldens) {
  LintReport r = GoldenReport();
  auto reader = [](const std::string&) {
    return std::string("-- tandem:phase pre-deploy\n-- migrate:up\n") +
           "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
           "CREATE INDEX users_email_idx ON users (email);\n"
           "UPDATE users SET plan = 'free';\n";
  };
  CheckGolden("src/lint/testdata/report.txt", RenderText(r, false, reader));
  CheckGolden("src/lint/testdata/report_color.txt", RenderText(r, true, reader));
  CheckGolden("src/lint/testdata/report.json", RenderJson(r));
  CheckGolden("src/lint/testdata/report.sarif", RenderSarif(r));
  CheckGolden("src/lint/testdata/report.github", RenderGithub(r));
  CheckGolden("src/lint/testdata/report.gitlab.json", RenderGitlab(r));
  auto sarif = nlohmann::json::parse(RenderSarif(r));
  EXPECT_EQ(sarif["version"], "2.1.0");
  EXPECT_EQ(sarif["runs"][0]["results"].size(), 4u);
}

TEST(LintDocs, EveryRuleHasAnUpToDatePage) {
  for (const Rule* rule : AllRules()) {
    CheckGolden(std::string("docs/rules/") + rule->id + ".md", RuleMarkdown(*rule));
  }
}

TEST(LintCorpus, WholeSharedCorpusIsAnalysedWithoutACrash) {
  auto seqs = CollectPaths(std::vector<std::string>{CorpusDir()}, std::nullopt);
  ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
  auto r = LintSequences(*seqs, Schema(), LintOptions());
  EXPECT_GT(r.files, 700);
  EXPECT_GT(r.statements, 3000);
  for (const auto& f : r.findings) {
    EXPECT_FALSE(f.file.empty());
    EXPECT_GT(f.line, 0) << f.rule << " " << f.file;
    EXPECT_GT(f.column, 0) << f.rule << " " << f.file;
    if (f.rule == "syntax-error") {
      EXPECT_NE(f.message, "") << f.file;
    }
  }
}

// However the threads share the parsing and the sequences (one thread, two, more threads than
// sequences), the report is the same, finding for finding and in the same order.
TEST(LintCorpus, ReportDoesNotDependOnTheNumberOfThreads) {
  auto seqs = CollectPaths(std::vector<std::string>{CorpusDir()}, std::nullopt);
  ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
  auto lint = [&](int threads) {
    LintOptions options;
    options.threads = threads;
    return RenderJson(LintSequences(*seqs, Schema(), options));
  };
  std::string one = lint(1);
  EXPECT_GT(one.size(), 1000000u);
  EXPECT_EQ(lint(2), one);
  EXPECT_EQ(lint(7), one);
}

// A unit is linted whole, a piece at a time (a large text: LintOptions::stream_above_bytes)
// or from its split statements (release and verify split before they lint), with the same
// findings, positions and counts. Each unit below exercises one thing the three must agree
// on: a BEGIN/COMMIT wrapper, findings on later lines of multi-line statements, allows,
// inline COPY rows, a background migration's placeholders, a COMMIT the runner refuses, and
// a syntax error.
std::vector<std::string> ThreeWays(const std::vector<std::string>& files) {
  TempDir dir;
  for (size_t i = 0; i < files.size(); ++i) {
    dir.Write("db/" + std::to_string(i + 1) + "_m.sql", files[i]);
  }
  auto set = migrate::LoadMigrations((dir.path() / "db").string());
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  if (!set.ok()) return {};
  LintOptions whole;
  LintOptions streamed;
  streamed.stream_above_bytes = 0;
  std::string from_text = RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), whole));
  std::string from_pieces = RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), streamed));
  size_t split = 0;
  for (auto& m : set->migrations) split += migrate::SplitSections(m).ok() ? 1 : 0;
  std::string from_statements = RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), whole));
  EXPECT_EQ(from_pieces, from_text);
  EXPECT_EQ(from_statements, from_text);
  return {from_text, std::to_string(split)};
}

TEST(LintEngine, PiecesAndSplitStatementsLintAsTheWholeText) {
  auto out = ThreeWays({
      "-- migrate:up\nCREATE TABLE users (id int, a text, b text);\n",
      "-- migrate:up\nBEGIN;\nALTER TABLE users\n  ADD COLUMN c int NOT NULL DEFAULT 1,\n"
      "  ALTER COLUMN a TYPE varchar(20);\n-- tandem:allow drop-column \"unused since v2\"\n"
      "ALTER TABLE users DROP COLUMN b;\nCREATE INDEX users_c ON users (c);\nCOMMIT;\n"
      "-- migrate:down\nSELECT 1;\n",
      "-- migrate:up\nCOPY users (id) FROM stdin;\n1\n2\n\\.\n  UPDATE users SET c = 2;\n",
      "-- migrate:up\n-- tandem:phase background\n-- tandem:batch table=users key=id size=10\n"
      "UPDATE users SET c = 3 WHERE id >= :batch_start AND id < :batch_end;\n",
      "-- migrate:up\n-- tandem:transaction off\nCREATE INDEX CONCURRENTLY i2 ON users (a);\n"
      "COMMIT;\nDROP TABLE users;\n",
      "-- migrate:up\nALTER TABLE users ADD COLUMN;\n",
  });
  ASSERT_EQ(out.size(), 2u);
  // The migrations that split (not the refused COMMIT nor the syntax error) were linted from
  // their statements the third time.
  EXPECT_GE(std::stoi(out[1]), 3);
  for (const char* rule :
       {"\"create-index-non-concurrently\"", "\"syntax-error\"", "\"drop-table\""}) {
    EXPECT_NE(out[0].find(rule), std::string::npos) << rule << "\n" << out[0];
  }
}

// The shared corpus, linted a piece at a time and from split statements, gives the report of
// linting every unit whole.
TEST(LintCorpus, PiecesAndSplitStatementsLintAsTheWholeText) {
  for (const char* dir : {"lemmy/migrations", "kratos/migrations", "harbor/postgresql"}) {
    auto set = migrate::LoadMigrations(CorpusDir() + "/" + dir);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    LintOptions streamed;
    streamed.stream_above_bytes = 0;
    std::string whole = RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), {}));
    EXPECT_EQ(RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), streamed)), whole) << dir;
    size_t split = 0;
    for (auto& m : set->migrations) split += migrate::SplitSections(m).ok() ? 1 : 0;
    EXPECT_GT(split, set->migrations.size() / 2) << dir;
    EXPECT_EQ(RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), {})), whole) << dir;
  }
}

// Normalised (file, line, column, rule, message) of every finding, for comparing reports
// whose paths are spelled differently.
std::vector<std::string> Keys(const LintReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) {
    out.push_back(std::filesystem::absolute(f.file).lexically_normal().string() + ":" +
                  std::to_string(f.line) + ":" + std::to_string(f.column) + " " + f.rule + " " +
                  f.message);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The files a set of sequences reports, normalised.
std::set<std::string> ReportedFiles(const std::vector<LintSequence>& seqs) {
  std::set<std::string> out;
  for (const auto& seq : seqs) {
    for (const auto& u : seq) {
      if (u.report) out.insert(std::filesystem::absolute(u.info.file).lexically_normal().string());
    }
  }
  return out;
}

// Every .sql file of the corpus named one by one (down files too, as `git diff --name-only`
// lists them) gives, on the files the directory lints, exactly the directory's findings.
TEST(LintCorpus, AFileListGivesTheDirectorysFindings) {
  auto dir_seqs = CollectPaths(std::vector<std::string>{CorpusDir()}, std::nullopt);
  ASSERT_TRUE(dir_seqs.ok()) << dir_seqs.status().ToString();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(CorpusDir())) {
    if (e.is_regular_file() && e.path().extension() == ".sql") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 1400u);
  auto list_seqs = CollectPaths(files, std::nullopt);
  ASSERT_TRUE(list_seqs.ok()) << list_seqs.status().ToString();
  // Each directory's history is collected once, however many of its files are named: one
  // sequence per migrations directory, plus one per file no layout claims (kratos's SQLite
  // and generic variants, which the directory leaves out).
  std::set<std::string> in_directory = ReportedFiles(*dir_seqs);
  size_t units = 0;
  for (const auto& seq : *list_seqs) units += seq.size();
  size_t directory_units = 0;
  for (const auto& seq : *dir_seqs) directory_units += seq.size();
  EXPECT_LE(units, directory_units + 20);
  EXPECT_LE(list_seqs->size(), dir_seqs->size() + 20);
  std::set<std::string> in_list = ReportedFiles(*list_seqs);
  for (const auto& f : in_directory) EXPECT_TRUE(in_list.count(f)) << f;
  // A down section's syntax findings are reported in its own file.
  for (const auto& seq : *dir_seqs) {
    for (const auto& u : seq) {
      if (u.report && !u.down_file.empty())
        in_directory.insert(std::filesystem::absolute(u.down_file).lexically_normal().string());
    }
  }

  LintOptions options;
  std::vector<std::string> from_list;
  for (const auto& key : Keys(LintSequences(*list_seqs, Schema(), options))) {
    if (in_directory.count(key.substr(0, key.find(':')))) from_list.push_back(key);
  }
  auto from_directory = Keys(LintSequences(*dir_seqs, Schema(), options));
  EXPECT_GT(from_directory.size(), 3000u);
  EXPECT_EQ(from_list, from_directory);
}

// A few files named out of order, some twice, from the middle of a history: the same findings
// as the directory gives them, so each is judged with every earlier migration replayed.
TEST(LintCorpus, SomeFilesOfAHistoryAreJudgedInItsContext) {
  std::string lemmy = CorpusDir() + "/lemmy/migrations";
  std::vector<std::string> folders;
  for (const auto& e : std::filesystem::directory_iterator(lemmy)) {
    if (e.is_directory()) folders.push_back(e.path().string());
  }
  std::sort(folders.begin(), folders.end());
  ASSERT_GT(folders.size(), 300u);
  std::vector<std::string> named = {folders[200] + "/up.sql", folders[40] + "/up.sql",
                                    folders[40] + "/down.sql", folders[200] + "/up.sql",
                                    folders[120]};  // a Diesel folder, named as a directory
  auto list_seqs = CollectPaths(named, std::nullopt);
  ASSERT_TRUE(list_seqs.ok()) << list_seqs.status().ToString();
  ASSERT_EQ(list_seqs->size(), 1u);
  EXPECT_EQ(list_seqs->front().size(), 201u) << "the history up to the last named file, once";
  std::set<std::string> expected;
  for (size_t i : {40, 120, 200}) {
    expected.insert(std::filesystem::absolute(folders[i] + "/up.sql").lexically_normal().string());
  }
  EXPECT_EQ(ReportedFiles(*list_seqs), expected);

  auto dir_seqs = CollectPaths(std::vector<std::string>{lemmy}, std::nullopt);
  ASSERT_TRUE(dir_seqs.ok());
  std::vector<std::string> from_directory;
  for (const auto& key : Keys(LintSequences(*dir_seqs, Schema(), LintOptions()))) {
    if (expected.count(key.substr(0, key.find(':')))) from_directory.push_back(key);
  }
  EXPECT_FALSE(from_directory.empty());
  EXPECT_EQ(Keys(LintSequences(*list_seqs, Schema(), LintOptions())), from_directory);
}

class LintCli : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(LintCli, ExitCodesThroughTheRealBinary) {
  dir_.Write("db/migrations/1_create.sql", "-- migrate:up\nCREATE TABLE users (id bigint);\n");
  auto ok = RunTandem({"lint"}, dir_.path().string(), {"DATABASE_URL=", "TANDEM_DATABASE_URL="});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  dir_.Write("db/migrations/2_drop.sql", "-- migrate:up\nALTER TABLE users DROP COLUMN id;\n");
  auto bad = RunTandem({"lint", "--format", "json"}, dir_.path().string(),
                       {"DATABASE_URL=", "TANDEM_DATABASE_URL="});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  auto json = nlohmann::json::parse(bad.out);
  ASSERT_EQ(json["findings"].size(), 1u);
  EXPECT_EQ(json["findings"][0]["rule"], "drop-column");
  EXPECT_EQ(json["findings"][0]["line"], 2);
  auto usage = RunTandem({"lint", "--format", "xml"}, dir_.path().string());
  EXPECT_EQ(usage.exit_code, 2);
  auto version = RunTandem({"lint", "--pg-version", "banana"}, dir_.path().string(),
                           {"DATABASE_URL=", "TANDEM_DATABASE_URL="});
  EXPECT_EQ(version.exit_code, 2);
  EXPECT_NE(version.err.find("invalid --pg-version"), std::string::npos) << version.err;
}

// A background migration the worker could not batch is an error at lint time, placed where
// the problem is, whether the file is linted whole, a piece at a time or from its statements.
TEST_F(LintCli, ABackgroundMigrationThatCannotBeBatchedIsAnErrorWithItsPlace) {
  dir_.Write("db/migrations/1_create.sql",
             "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, tenant int, e text);\n");
  dir_.Write("db/migrations/2_fine.sql",
             "-- tandem:phase background\n-- tandem:batch table=users key=id size=auto\n"
             "-- migrate:up\nUPDATE users SET e = lower(e)\n"
             " WHERE id >= :batch_start AND id < :batch_end;\n");
  dir_.Write("db/migrations/3_whole.sql",
             "-- tandem:phase background\n-- tandem:batch table=users key=id size=auto\n"
             "-- migrate:up\n-- the whole table\n  UPDATE users SET e = lower(e);\n");
  dir_.Write("db/migrations/4_two.sql",
             "-- tandem:phase background\n-- tandem:batch table=users key=id\n-- migrate:up\n"
             "UPDATE users SET e = 'a' WHERE id >= :batch_start AND id < :batch_end;\n"
             "UPDATE users SET e = 'b' WHERE id >= :batch_start AND id < :batch_end;\n");
  dir_.Write("db/migrations/5_nobatch.sql",
             "-- tandem:phase background\n-- migrate:up\n"
             "UPDATE users SET e = 'a' WHERE id >= :batch_start AND id < :batch_end;\n");
  dir_.Write("db/migrations/6_composite.sql",
             "-- tandem:phase background\n-- tandem:batch table=users key=tenant,id\n"
             "-- migrate:up\nUPDATE users SET e = 'a'\n WHERE (tenant, id) >= :batch_start "
             "AND (tenant, id) < :batch_end;\n");
  dir_.Write("db/migrations/7_unknown.sql",
             "-- tandem:phase background\n-- tandem:batch table=users key=id\n-- migrate:up\n"
             "UPDATE users SET e = 'a' WHERE id >= :from AND id < :batch_end;\n");
  std::vector<std::string> env = {"DATABASE_URL=", "TANDEM_DATABASE_URL="};
  auto run = RunTandem({"lint", "--format", "json"}, dir_.path().string(), env);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  auto json = nlohmann::json::parse(run.out);
  std::map<std::string, std::string> found;  // file -> "line:column message"
  for (const auto& f : json["findings"]) {
    if (f["rule"] != "background-not-batchable") continue;
    EXPECT_EQ(f["severity"], "error");
    std::string file = std::filesystem::path(f["file"].get<std::string>()).filename().string();
    found[file] = std::to_string(f["line"].get<int>()) + ":" +
                  std::to_string(f["column"].get<int>()) + " " + f["message"].get<std::string>();
  }
  EXPECT_EQ(found.count("2_fine.sql"), 0u);
  EXPECT_EQ(found["3_whole.sql"],
            "5:3 a background migration must use :batch_start and :batch_end in its statement; "
            "add WHERE key >= :batch_start AND key < :batch_end (see docs/background.md)");
  EXPECT_EQ(found["4_two.sql"],
            "5:1 a background migration must be exactly one statement, not 2; put each data "
            "change in its own background migration");
  EXPECT_EQ(found["5_nobatch.sql"],
            "3:1 a background migration needs a -- tandem:batch directive (the table and key "
            "the worker batches by)");
  EXPECT_EQ(found["6_composite.sql"].substr(0, 70),
            "5:56 the comparison < with :batch_end skips or repeats the rows on bat");
  EXPECT_EQ(found["7_unknown.sql"],
            "4:38 unknown placeholder :from in a background migration; the placeholders are "
            ":batch_start and :batch_end");
  auto text = RunTandem({"lint"}, dir_.path().string(), env);
  EXPECT_NE(text.out.find("3_whole.sql:5:3"), std::string::npos) << text.out;

  // The same findings from the split statements (release and verify lint those).
  auto set = migrate::LoadMigrations((dir_.path() / "db/migrations").string());
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  std::string whole = RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), {}));
  for (auto& m : set->migrations) (void)migrate::SplitSections(m);
  EXPECT_EQ(RenderJson(LintSequences({SequenceFromSet(*set)}, Schema(), {})), whole);
}

// A Diesel migration folder named alone is its up.sql in the history of the folders before
// it: varchar(10) to text is known to keep the table (no index on it), not "current type
// not known".
TEST_F(LintCli, ADieselFolderAloneGetsTheContextOfEarlierMigrations) {
  dir_.Write("migrations/2020-01-01-000000_create/up.sql",
             "CREATE TABLE t (id bigint PRIMARY KEY, v varchar(10));\n");
  dir_.Write("migrations/2020-01-01-000000_create/down.sql", "DROP TABLE t;\n");
  dir_.Write("migrations/2020-01-02-000000_widen/up.sql",
             "ALTER TABLE t ALTER COLUMN v TYPE text;\nALTER TABLE t DROP COLUMN v;\n");
  dir_.Write("migrations/2020-01-02-000000_widen/down.sql", "SELECT 1;\n");
  std::vector<std::string> env = {"DATABASE_URL=", "TANDEM_DATABASE_URL="};
  auto folder = RunTandem({"lint", "--format", "json", "migrations/2020-01-02-000000_widen"},
                          dir_.path().string(), env);
  auto file = RunTandem({"lint", "--format", "json", "migrations/2020-01-02-000000_widen/up.sql"},
                        dir_.path().string(), env);
  auto all = RunTandem({"lint", "--format", "json", "migrations"}, dir_.path().string(), env);
  for (const auto* out : {&folder, &file, &all}) {
    ASSERT_EQ(out->exit_code, 1) << out->out << out->err;  // the DROP COLUMN
    std::vector<std::string> widen;  // rule:line of the findings on the second migration
    auto json = nlohmann::json::parse(out->out);
    for (const auto& f : json["findings"]) {
      if (f["file"].get<std::string>().find("_widen/up.sql") == std::string::npos) continue;
      widen.push_back(f["rule"].get<std::string>() + ":" + std::to_string(f["line"].get<int>()));
    }
    EXPECT_EQ(widen, std::vector<std::string>{"drop-column:2"}) << out->out;
  }
}

}  // namespace
}  // namespace tandem::lint::testing
