-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_reindex.rs, test reindex_table_concurrently_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, v int);
INSERT INTO foo (id, v) SELECT g, g FROM generate_series(1, 1000) g;
CREATE INDEX foo_v ON foo (v);
-- migration:
REINDEX TABLE CONCURRENTLY foo;
