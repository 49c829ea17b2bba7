-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test merge_update_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE k (id bigint PRIMARY KEY, a int, b int, c int);
INSERT INTO k (id, a, b, c) SELECT g, g, g, g FROM generate_series(1, 1000) g;
CREATE TABLE j (id bigint PRIMARY KEY, a int);
INSERT INTO j (id, a) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
merge into k
using j on k.id = j.id
when matched then
  update
  set
    a = 1,
    a = 2;
