-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test insert_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE t (id bigint PRIMARY KEY, a int);
INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
insert into t (a, a)
values (1, 2);
