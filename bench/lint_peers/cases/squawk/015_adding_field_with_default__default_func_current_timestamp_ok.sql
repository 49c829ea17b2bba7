-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test default_func_current_timestamp_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE t (id bigint PRIMARY KEY, v int);
INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
alter table t add column c timestamptz default current_timestamp;
