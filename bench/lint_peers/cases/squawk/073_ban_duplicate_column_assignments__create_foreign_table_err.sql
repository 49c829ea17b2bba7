-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test create_foreign_table_err
-- peer_expects: violation
-- transaction: off
-- note: setup: a server s on a wrapper without handler
-- setup:
CREATE FOREIGN DATA WRAPPER dummy_fdw;
CREATE SERVER s FOREIGN DATA WRAPPER dummy_fdw;
-- migration:
create foreign table t (
  a int,
  a text
) server s;
