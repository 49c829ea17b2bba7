-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test default_uuid_error_multi_stmt
-- peer_expects: violation
-- transaction: off
-- note: squawk's uuid() does not exist in PostgreSQL 15 and an integer column cannot take a uuid default: gen_random_uuid() and a uuid column keep the volatile default
-- setup:
CREATE TABLE t (id bigint PRIMARY KEY, v int);
INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
alter table t set logged, add column c uuid default gen_random_uuid();
