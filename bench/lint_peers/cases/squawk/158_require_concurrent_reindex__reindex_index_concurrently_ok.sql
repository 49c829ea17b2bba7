-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_reindex.rs, test reindex_index_concurrently_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE foo_t (id bigint PRIMARY KEY, v int);
INSERT INTO foo_t (id, v) SELECT g, g FROM generate_series(1, 1000) g;
CREATE INDEX foo ON foo_t (v);
-- migration:
REINDEX INDEX CONCURRENTLY foo;
