-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_partition_detach.rs, test detach_partition_finalize_ok
-- peer_expects: ok
-- transaction: off
-- exclude: FINALIZE needs a DETACH CONCURRENTLY that was interrupted, which a setup script cannot produce (on a normal partition it fails)
-- setup:
CREATE TABLE t (id bigint NOT NULL, v int) PARTITION BY RANGE (id);
CREATE TABLE p PARTITION OF t FOR VALUES FROM (0) TO (100000);
INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE t DETACH PARTITION p FINALIZE;
