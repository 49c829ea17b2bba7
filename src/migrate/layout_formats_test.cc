// Loading golang-migrate, Diesel, Flyway and goose layouts, and telling layouts apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "base/sha256.h"
#include "migrate/layout_test_util.h"
#include "migrate/layouts.h"

namespace tandem::migrate {
namespace {

using ::testing::StartsWith;

using LayoutFormatsTest = LayoutFixture;
using LayoutDetectTest = LayoutFixture;

std::string Framed(std::initializer_list<std::pair<std::string, std::string>> files) {
  std::string out;
  for (const auto& [name, text] : files) out += name + std::string(1, '\0') + text;
  return Sha256Hex(out);
}

TEST_F(LayoutFormatsTest, GolangMigrate) {
  Write("1_create_users.up.sql", "-- tandem:lock-timeout 2s\nCREATE TABLE users (id int);\n");
  Write("1_create_users.down.sql", "DROP TABLE users;\n");
  Write("2_add_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n");
  MigrationSet set = MustLoad();
  EXPECT_EQ(set.layout, Layout::kGolangMigrate);
  ASSERT_EQ(set.migrations.size(), 2u);
  const Migration& m = set.migrations[0];
  EXPECT_EQ(m.version, "1");
  EXPECT_EQ(m.name, "create_users");
  EXPECT_EQ(m.paths, (std::vector<std::string>{Path("1_create_users.up.sql"),
                                               Path("1_create_users.down.sql")}));
  EXPECT_EQ(m.lock_timeout, Duration(2000));
  EXPECT_EQ(m.up.text, "-- tandem:lock-timeout 2s\nCREATE TABLE users (id int);\n");
  EXPECT_EQ(m.up.text_line, 1);
  EXPECT_EQ(m.up.location.line, 1);
  EXPECT_EQ(m.down.path, Path("1_create_users.down.sql"));
  // Up and down apart (drift is judged on the up file); the whole, as recorded before.
  EXPECT_EQ(m.up_checksum, Sha256Hex("-- tandem:lock-timeout 2s\nCREATE TABLE users (id int);\n"));
  EXPECT_EQ(m.down_checksum, Sha256Hex("DROP TABLE users;\n"));
  EXPECT_EQ(m.checksum, m.up_checksum + "/" + m.down_checksum);
  EXPECT_EQ(m.legacy_checksum,
            Framed({{"1_create_users.up.sql",
                     "-- tandem:lock-timeout 2s\nCREATE TABLE users (id int);\n"},
                    {"1_create_users.down.sql", "DROP TABLE users;\n"}}));
  // One file: the checksum is the file's.
  EXPECT_EQ(set.migrations[1].checksum, Sha256Hex("ALTER TABLE users ADD COLUMN email text;\n"));
  EXPECT_FALSE(set.migrations[1].down.present);
}

TEST_F(LayoutFormatsTest, DownFilesCanBeLeftUnread) {
  Write("1_create_users.up.sql", "CREATE TABLE users (id int);\n");
  // Unreadable as a migration (a directive that does not exist): never opened.
  Write("1_create_users.down.sql", "-- tandem:no-such-directive\nDROP TABLE users;\n");
  LoadOptions options;
  options.read_down_files = false;
  auto set = LoadMigrations(Dir(), options);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->migrations.size(), 1u);
  const Migration& m = set->migrations[0];
  EXPECT_EQ(m.up.text, "CREATE TABLE users (id int);\n");
  EXPECT_FALSE(m.down.present);
  EXPECT_EQ(m.paths.size(), 2u);
  EXPECT_EQ(m.checksum, "");  // a checksum of half the files would be wrong, so there is none
  EXPECT_FALSE(Load().ok());  // read by default, and refused
}

TEST_F(LayoutFormatsTest, GolangMigrateNameKeepsDots) {
  Write("0002_1.7.0_schema.up.sql", "SELECT 1;\n");
  MigrationSet set = MustLoad(Layout::kGolangMigrate);
  ASSERT_EQ(set.migrations.size(), 1u);
  EXPECT_EQ(set.migrations[0].version, "0002");
  EXPECT_EQ(set.migrations[0].name, "1.7.0_schema");
}

TEST_F(LayoutFormatsTest, GolangMigrateDialectVariants) {
  // ory/pop (kratos): the PostgreSQL file wins over the generic one, other databases' files are
  // skipped, .autocommit runs outside a transaction.
  Write("1_a.up.sql", "generic;\n");
  Write("1_a.postgres.up.sql", "CREATE TABLE a (id int);\n");
  Write("1_a.sqlite.up.sql", "sqlite;\n");
  Write("1_a.down.sql", "DROP TABLE a;\n");
  Write("2_b.postgres.autocommit.up.sql", "CREATE INDEX CONCURRENTLY i ON a (id);\n");
  Write("2_b.postgres.autocommit.down.sql", "DROP INDEX CONCURRENTLY i;\n");
  Write("3_sqlite_only.sqlite3.up.sql", "sqlite;\n");
  Write("3_sqlite_only.down.sql", "");
  MigrationSet set = MustLoad();
  ASSERT_EQ(set.migrations.size(), 2u);
  const Migration& a = set.migrations[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.paths, (std::vector<std::string>{Path("1_a.postgres.up.sql"), Path("1_a.down.sql")}));
  EXPECT_TRUE(a.transactional);
  EXPECT_EQ(set.migrations[1].name, "b");
  EXPECT_FALSE(set.migrations[1].transactional);
}

TEST_F(LayoutFormatsTest, GolangMigrateErrors) {
  Write("1_a.up.sql", "SELECT 1;\n");
  Write("1_b.up.sql", "SELECT 2;\n");
  EXPECT_EQ(LoadError(),
            "D/1_b.up.sql: error: version 1 is used by two migrations: \"D/1_a.up.sql\" and "
            "\"D/1_b.up.sql\"\n"
            "HINT: give one of them a new version (\"tandem new\" names files with a timestamp)");
  std::filesystem::remove(Path("1_b.up.sql"));
  Write("2_c.down.sql", "SELECT 3;\n");
  EXPECT_EQ(LoadError(),
            "D/2_c.down.sql: error: down file without an up file\n"
            "HINT: add the up file (<version>_<name>.up.sql and <version>_<name>.down.sql), or "
            "delete it");
  std::filesystem::remove(Path("2_c.down.sql"));
  Write("2_c.down.sql", "-- tandem:phase post-deploy\n");
  Write("2_c.up.sql", "SELECT 3;\n");
  EXPECT_EQ(LoadError(),
            "D/2_c.down.sql:1:4: error: directive \"tandem:phase\" is not allowed in a down file\n"
            "HINT: move it to the migration's up file D/2_c.up.sql");
}

TEST_F(LayoutFormatsTest, Diesel) {
  Write("00000000000000_diesel_initial_setup/up.sql",
        "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql;\n");
  Write("00000000000000_diesel_initial_setup/down.sql", "DROP FUNCTION f();\n");
  Write("2019-02-26-002946_create_user/up.sql", "CREATE TABLE u (id int);\n");
  Write("2019-02-26-002946_create_user/down.sql", "DROP TABLE u;\n");
  Write("2025-10-08-084508-0000_add_index/up.sql", "CREATE INDEX CONCURRENTLY i ON u (id);\n");
  Write("2025-10-08-084508-0000_add_index/metadata.toml", "run_in_transaction = false\n");
  Write("2020-01-01-000000_archive_notes/README.md", "no up.sql: not a migration\n");
  MigrationSet set = MustLoad();
  EXPECT_EQ(set.layout, Layout::kDiesel);
  ASSERT_EQ(set.migrations.size(), 3u);
  EXPECT_EQ(set.migrations[0].version, "00000000000000");
  const Migration& u = set.migrations[1];
  EXPECT_EQ(u.version, "20190226002946");
  EXPECT_EQ(u.name, "create_user");
  EXPECT_EQ(u.paths, (std::vector<std::string>{Path("2019-02-26-002946_create_user/up.sql"),
                                               Path("2019-02-26-002946_create_user/down.sql")}));
  EXPECT_EQ(u.checksum,
            Sha256Hex("CREATE TABLE u (id int);\n") + "/" + Sha256Hex("DROP TABLE u;\n"));
  EXPECT_EQ(u.legacy_checksum,
            Framed({{"up.sql", "CREATE TABLE u (id int);\n"}, {"down.sql", "DROP TABLE u;\n"}}));
  EXPECT_TRUE(u.transactional);
  EXPECT_EQ(set.migrations[2].version, "202510080845080000");
  EXPECT_FALSE(set.migrations[2].transactional);
  EXPECT_FALSE(set.migrations[2].down.present);
}

TEST_F(LayoutFormatsTest, DieselErrors) {
  Write("2019-01-01-000000_a/down.sql", "DROP TABLE a;\n");
  EXPECT_EQ(LoadError(),
            "D/2019-01-01-000000_a: error: Diesel migration has no up.sql\n"
            "HINT: add D/2019-01-01-000000_a/up.sql, or delete the directory");
  Write("2019-01-01-000000_a/up.sql", "CREATE TABLE a (id int);\n");
  Write("20190101000000_b/up.sql", "CREATE TABLE b (id int);\n");
  EXPECT_THAT(LoadError(),
              StartsWith("D/20190101000000_b: error: version 20190101000000 is used by tw"));
}

TEST_F(LayoutFormatsTest, Flyway) {
  Write("V1__create_users.sql", "CREATE TABLE users (id int);\n");
  Write("U1__create_users.sql", "DROP TABLE users;\n");
  Write("V1_2__add_email.sql", "-- tandem:phase post-deploy\nALTER TABLE users ADD email text;\n");
  Write("V1.10__add_name.sql", "ALTER TABLE users ADD name text;\n");
  Write("afterMigrate.sql", "-- a callback: not a migration\n");
  MigrationSet set = MustLoad();
  EXPECT_EQ(set.layout, Layout::kFlyway);
  ASSERT_EQ(set.migrations.size(), 3u);
  EXPECT_EQ(set.migrations[0].version, "1");
  EXPECT_EQ(set.migrations[0].name, "create_users");
  EXPECT_EQ(set.migrations[0].paths,
            (std::vector<std::string>{Path("V1__create_users.sql"), Path("U1__create_users.sql")}));
  EXPECT_TRUE(set.migrations[0].down.present);
  EXPECT_EQ(set.migrations[1].version, "1.2");
  EXPECT_EQ(set.migrations[1].phase, Phase::kPostDeploy);
  EXPECT_EQ(set.migrations[2].version, "1.10");
}

TEST_F(LayoutFormatsTest, FlywayErrors) {
  Write("V1__a.sql", "SELECT 1;\n");
  Write("R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n");
  EXPECT_EQ(LoadError(),
            "D/R__views.sql: error: repeatable migrations are not supported\n"
            "HINT: turn it into a versioned migration (V<version>__<name>.sql), or move it out of "
            "the migrations directory");
  std::filesystem::remove(Path("R__views.sql"));
  Write("V1.0__b.sql", "SELECT 2;\n");  // 1.0 is 1 for Flyway
  EXPECT_THAT(LoadError(), StartsWith("D/V1__a.sql: error: version 1 is used by two migrat"));
  std::filesystem::remove(Path("V1.0__b.sql"));
  Write("V2_b.sql", "SELECT 2;\n");  // one underscore: Flyway would not read it either
  EXPECT_THAT(LoadError(),
              StartsWith("D/V2_b.sql: error: file name does not fit the flyway layout\nHINT"));
  std::filesystem::remove(Path("V2_b.sql"));
  Write("U3__c.sql", "SELECT 3;\n");
  EXPECT_THAT(LoadError(), StartsWith("D/U3__c.sql: error: down file without an up file"));
}

TEST_F(LayoutFormatsTest, Goose) {
  Write("20240101000000_a.sql",
        "-- +goose Up\n"                               // 1
        "-- tandem:allow add-function \"new\"\n"       // 2
        "-- +goose StatementBegin\n"                   // 3
        "CREATE FUNCTION f() RETURNS int AS $$\n"      // 4
        "BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n"  // 5
        "-- +goose StatementEnd\n"                     // 6
        "\n"                                           // 7
        "-- +goose Down\n"                             // 8
        "DROP FUNCTION f();\n");                       // 9
  Write("20240102000000_b.sql",
        "-- +goose NO TRANSACTION\n-- +goose up\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
  MigrationSet set = MustLoad();
  EXPECT_EQ(set.layout, Layout::kGoose);
  ASSERT_EQ(set.migrations.size(), 2u);
  Migration m = set.migrations[0];
  EXPECT_TRUE(m.transactional);
  EXPECT_EQ(m.up.text_line, 2);
  EXPECT_EQ(m.down.location.line, 8);
  ASSERT_TRUE(SplitSections(m).ok());
  ASSERT_TRUE(SplitDownSection(m).ok());
  ASSERT_EQ(m.up.statements.size(), 1u);
  EXPECT_EQ(m.up.statements[0].location.line, 4);
  ASSERT_EQ(m.up.statements[0].allows.size(), 1u);  // StatementBegin does not separate them
  EXPECT_EQ(m.up.statements[0].allows[0].rule, "add-function");
  ASSERT_EQ(m.down.statements.size(), 1u);
  EXPECT_EQ(m.down.statements[0].location.line, 9);
  EXPECT_FALSE(set.migrations[1].transactional);
}

TEST_F(LayoutFormatsTest, GooseErrors) {
  Write("1_a.sql", "-- +goose Up\nSELECT 1;\n-- +goose Dwon\nSELECT 2;\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql:3:4: error: unknown goose annotation \"+goose Dwon\"\n"
            "HINT: use Up, Down, StatementBegin, StatementEnd or NO TRANSACTION");
  Write("1_a.sql", "SELECT 1;\n");
  EXPECT_EQ(LoadError(Layout::kGoose),
            "D/1_a.sql: error: file has no up section\n"
            "HINT: start the migration's SQL with a \"-- +goose Up\" line");
  Write("1_a.sql", "-- +goose Up\nSELECT 1;\n");
  Write("2_b.go", "package migrations\n");
  EXPECT_EQ(LoadError(),
            "D/2_b.go: error: goose Go migrations are not supported\n"
            "HINT: rewrite it as a SQL migration, or run it with goose before adopting tandem");
}

TEST_F(LayoutFormatsTest, GooseFileLoadedAsTandemSaysSo) {
  Write("1_a.sql", "-- +goose Up\nSELECT 1;\n");
  EXPECT_EQ(LoadError(Layout::kTandem),
            "D/1_a.sql: error: file has no up section\n"
            "HINT: this is a goose file: pass --layout goose");
}

TEST_F(LayoutDetectTest, MixedLayoutsNameTwoFiles) {
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n");
  Write("2_b.up.sql", "SELECT 2;\n");
  EXPECT_EQ(LoadError(),
            "D/2_b.up.sql: error: migrations directory \"D\" mixes layouts: \"D/1_a.sql\" is "
            "tandem (or goose), \"D/2_b.up.sql\" is golang-migrate\n"
            "HINT: pass --layout (or set layout in [migrations] of tandem.toml) and move the "
            "files of the other layout out of the directory");
}

TEST_F(LayoutDetectTest, DbmateAndGooseFilesAreMixed) {
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n");
  Write("2_b.sql", "-- +goose Up\nSELECT 2;\n");
  EXPECT_EQ(LoadError(),
            "D/2_b.sql: error: migrations directory \"D\" mixes layouts: \"D/1_a.sql\" is tandem "
            "(dbmate markers), \"D/2_b.sql\" is goose\n"
            "HINT: pass --layout (or set layout in [migrations] of tandem.toml) and convert the "
            "files of the other layout");
}

TEST_F(LayoutDetectTest, ExplicitLayoutRefusesFilesOfAnother) {
  Write("1_a.up.sql", "SELECT 1;\n");
  Write("2_b.sql", "-- migrate:up\nSELECT 2;\n");
  EXPECT_EQ(LoadError(Layout::kGolangMigrate),
            "D/2_b.sql: error: file name does not fit the golang-migrate layout\n"
            "HINT: name migrations <version>_<name>.up.sql and <version>_<name>.down.sql, move "
            "other files out of the migrations directory, or pass --layout");
  EXPECT_THAT(LoadError(Layout::kTandem),
              StartsWith("D/1_a.up.sql: error: file name does not fit the tandem layout"));
  EXPECT_THAT(LoadError(Layout::kDiesel),
              StartsWith("D/1_a.up.sql: error: file name does not fit the diesel layout"));
}

TEST_F(LayoutDetectTest, DetectsEachLayoutFromNamesAndMarkers) {
  Write("t/1_a.sql", "-- migrate:up\nSELECT 1;\n");
  Write("g/1_a.sql", "-- +goose Up\nSELECT 1;\n");
  Write("m/1_a.up.sql", "SELECT 1;\n");
  Write("d/1_a/up.sql", "SELECT 1;\n");
  Write("f/V1__a.sql", "SELECT 1;\n");
  std::pair<const char*, Layout> cases[] = {{"t", Layout::kTandem},
                                            {"g", Layout::kGoose},
                                            {"m", Layout::kGolangMigrate},
                                            {"d", Layout::kDiesel},
                                            {"f", Layout::kFlyway}};
  for (const auto& [sub, layout] : cases) {
    auto set = LoadMigrations(Path(sub));
    ASSERT_TRUE(set.ok()) << sub << ": " << set.status().ToString();
    EXPECT_EQ(set->layout, layout) << sub;
    EXPECT_EQ(set->migrations.size(), 1u) << sub;
  }
}

}  // namespace
}  // namespace tandem::migrate
