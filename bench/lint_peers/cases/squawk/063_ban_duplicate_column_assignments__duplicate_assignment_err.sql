-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test duplicate_assignment_err
-- peer_expects: violation
-- transaction: off
-- note: the leading drop table k is left out: nothing to drop in a fresh database
-- setup:

-- migration:
create table k (
  a int,
  b int,
  c int
);
update k
set
  a = 1,
  a = 1,
  b = 2,
  c = 3;
