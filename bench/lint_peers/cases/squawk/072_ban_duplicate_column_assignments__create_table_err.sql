-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test create_table_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
create table t (
  a int,
  a text
);
