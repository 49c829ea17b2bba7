-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test duplicate_multiple_column_assignment_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE k (id bigint PRIMARY KEY, a int, b int, c int);
INSERT INTO k (id, a, b, c) SELECT g, g, g, g FROM generate_series(1, 1000) g;
-- migration:
update k
set
  (a, b) = (1, 2),
  a = 3;
