-- source: sbdchd/squawk crates/squawk_linter/src/rules/prefer_repack.rs, test cluster_no_path_err
-- peer_expects: n/a (test runs squawk with pg_version 19)
-- transaction: off
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, v int);
INSERT INTO foo (id, v) SELECT g, g FROM generate_series(1, 1000) g;
ALTER TABLE foo CLUSTER ON foo_pkey;
-- migration:
CLUSTER;
