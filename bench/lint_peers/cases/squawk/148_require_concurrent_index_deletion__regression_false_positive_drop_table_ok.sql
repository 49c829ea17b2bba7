-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_index_deletion.rs, test regression_false_positive_drop_table_ok
-- peer_expects: ok
-- transaction: off
-- note: setup: the table exists with rows (squawk's expectation is about its index rule only)
-- setup:
CREATE TABLE some_table (id bigint PRIMARY KEY, v int);
INSERT INTO some_table (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
DROP TABLE IF EXISTS some_table;
