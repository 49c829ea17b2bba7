-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test default_empty_array_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE t (id bigint PRIMARY KEY, v int);
INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
alter table t add column a double precision[] default array[]::double precision[];
alter table t add column b bigint[] default cast(array[] as bigint[]);
alter table t add column c text[] default array['foo', 'bar']::text[];
