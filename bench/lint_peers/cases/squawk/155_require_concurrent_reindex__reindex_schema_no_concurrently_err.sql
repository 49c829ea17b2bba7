-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_reindex.rs, test reindex_schema_no_concurrently_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE SCHEMA foo;
CREATE TABLE foo.t (id bigint PRIMARY KEY, v int);
INSERT INTO foo.t (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
REINDEX SCHEMA foo;
