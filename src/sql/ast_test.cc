// The translation into tandem's statement model, for the facts the lint rules read.
#include "sql/ast.h"

#include <gtest/gtest.h>

namespace tandem::sql {
namespace {

Statement One(const std::string& sql) {
  auto r = ParseStatements(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok() || r->size() != 1) return Statement();
  return (*r)[0];
}

TEST(AstTranslation, EnumValuePosition) {
  Statement appended = One("ALTER TYPE mood ADD VALUE 'calm'");
  EXPECT_EQ(appended.kind, StatementKind::kAlterEnumAddValue);
  EXPECT_EQ(appended.enum_neighbor, "");
  Statement before = One("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'calm' BEFORE 'sad'");
  EXPECT_EQ(before.enum_neighbor, "sad");
  EXPECT_FALSE(before.enum_after);
  Statement after = One("ALTER TYPE mood ADD VALUE 'calm' AFTER 'happy'");
  EXPECT_EQ(after.enum_neighbor, "happy");
  EXPECT_TRUE(after.enum_after);
}

TEST(AstTranslation, AssignedColumnsOfUpdateAndInsert) {
  Statement update = One("UPDATE t SET a = 1, b[1] = 2, (c, \"D\") = (3, 4), p.x = 5");
  ASSERT_EQ(update.assigned_columns.size(), 5u);
  EXPECT_EQ(update.assigned_columns[0].name, "a");
  EXPECT_FALSE(update.assigned_columns[0].partial);
  EXPECT_EQ(update.assigned_columns[0].offset, 13u);
  EXPECT_TRUE(update.assigned_columns[1].partial);
  EXPECT_EQ(update.assigned_columns[3].name, "D");
  EXPECT_TRUE(update.assigned_columns[4].partial);
  Statement insert = One("INSERT INTO t (a, b) VALUES (1, 2)");
  ASSERT_EQ(insert.assigned_columns.size(), 2u);
  EXPECT_EQ(insert.assigned_columns[1].name, "b");
  EXPECT_TRUE(One("INSERT INTO t VALUES (1)").assigned_columns.empty());
}

TEST(AstTranslation, CreateDomainSequenceAndView) {
  Statement domain =
      One("CREATE DOMAIN s.pos AS integer CONSTRAINT p CHECK (VALUE > (0)) NOT NULL");
  EXPECT_EQ(domain.kind, StatementKind::kCreateDomain);
  EXPECT_EQ(domain.relation.ToSql(), "s.pos");
  EXPECT_EQ(domain.domain_type.name, "int4");
  ASSERT_EQ(domain.table_constraints.size(), 2u);
  EXPECT_EQ(domain.table_constraints[0].kind, ConstraintKind::kCheck);
  EXPECT_EQ(domain.table_constraints[0].name, "p");
  EXPECT_EQ(domain.table_constraints[0].check_sql, "(VALUE > (0))");
  Statement sequence = One("CREATE SEQUENCE IF NOT EXISTS s.seq");
  EXPECT_EQ(sequence.kind, StatementKind::kCreateSequence);
  EXPECT_EQ(sequence.relation.ToSql(), "s.seq");
  Statement view = One("CREATE OR REPLACE VIEW v AS SELECT 1");
  EXPECT_EQ(view.kind, StatementKind::kCreateView);
  EXPECT_EQ(view.relation.name, "v");
}

TEST(AstTranslation, WhatFollowsAColumnType) {
  Statement create =
      One("CREATE TABLE t (id serial PRIMARY KEY, at timestamp(3) without time zone NOT NULL "
          "DEFAULT now(), \"Name\" varchar(20), n numeric(10, 2) CHECK (n > 0))");
  ASSERT_EQ(create.columns.size(), 4u);
  EXPECT_EQ(create.columns[0].after_type_sql, "PRIMARY KEY");
  EXPECT_EQ(create.columns[1].after_type_sql, "NOT NULL DEFAULT now()");
  EXPECT_EQ(create.columns[2].after_type_sql, "");
  EXPECT_EQ(create.columns[3].after_type_sql, "CHECK (n > 0)");
  EXPECT_EQ(create.columns[3].constraints[0].check_sql, "(n > 0)");
  Statement alter =
      One("ALTER TABLE t ALTER COLUMN a TYPE integer USING a::integer, ADD COLUMN b int "
          "REFERENCES u (id), ALTER COLUMN c TYPE text");
  ASSERT_EQ(alter.cmds.size(), 3u);
  EXPECT_EQ(alter.cmds[0].column_def.name, "a");
  EXPECT_EQ(alter.cmds[0].column_def.after_type_sql, "USING a::integer");
  EXPECT_EQ(alter.cmds[1].column_def.after_type_sql, "REFERENCES u (id)");
  EXPECT_EQ(alter.cmds[2].column_def.after_type_sql, "");
}

TEST(AstTranslation, TableSetSchemaAndConstraintRename) {
  Statement moved = One("ALTER TABLE IF EXISTS s.\"T\" SET SCHEMA archive");
  EXPECT_EQ(moved.node, "AlterObjectSchemaStmt");
  EXPECT_EQ(moved.relation.schema, "s");
  EXPECT_EQ(moved.relation.name, "T");
  EXPECT_EQ(moved.new_schema, "archive");
  Statement type = One("ALTER TYPE mood SET SCHEMA archive");  // not a table: not modelled
  EXPECT_TRUE(type.relation.empty());
  EXPECT_EQ(type.new_schema, "");

  Statement table = One("ALTER TABLE t RENAME CONSTRAINT a TO b");
  EXPECT_TRUE(table.renames_table_constraint);
  EXPECT_EQ(table.relation.name, "t");
  EXPECT_EQ(table.old_name, "a");
  EXPECT_EQ(table.new_name, "b");
  EXPECT_FALSE(One("ALTER DOMAIN d RENAME CONSTRAINT a TO b").renames_table_constraint);
  EXPECT_FALSE(One("ALTER TABLE t RENAME COLUMN a TO b").renames_table_constraint);
}

}  // namespace
// The statement's text starts after the comments before it, nested ones included.
TEST(AstTranslation, TextStartsAfterNestedLeadingComments) {
  Statement st = One("/* a /* b */ c */\nCREATE TABLE t (id int)");
  EXPECT_EQ(st.text, "CREATE TABLE t (id int)");
  EXPECT_EQ(st.offset, 18u);
}

}  // namespace tandem::sql
