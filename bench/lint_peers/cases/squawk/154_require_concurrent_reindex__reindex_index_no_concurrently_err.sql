-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_reindex.rs, test reindex_index_no_concurrently_err
-- peer_expects: violation
-- transaction: off
-- note: setup: an index named foo
-- setup:
CREATE TABLE foo_t (id bigint PRIMARY KEY, v int);
INSERT INTO foo_t (id, v) SELECT g, g FROM generate_series(1, 1000) g;
CREATE INDEX foo ON foo_t (v);
-- migration:
REINDEX INDEX foo;
