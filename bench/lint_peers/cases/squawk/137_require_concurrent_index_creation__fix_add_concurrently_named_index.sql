-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_index_creation.rs, test fix_add_concurrently_named_index
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE t (id bigint PRIMARY KEY, a int, c int);
INSERT INTO t (id, a, c) SELECT g, g, g FROM generate_series(1, 1000) g;
-- migration:
CREATE INDEX i ON t (c);
