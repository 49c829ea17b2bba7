-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test merge_insert_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE t (id bigint PRIMARY KEY, a int);
INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 1000) g;
CREATE TABLE s (id bigint PRIMARY KEY, a int);
INSERT INTO s (id, a) SELECT g, g + 1000 FROM generate_series(1, 1000) g;
-- migration:
merge into t
using s on t.id = s.id
when not matched then
  insert (a, a)
  values (1, 2);
