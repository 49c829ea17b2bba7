-- source: sbdchd/squawk crates/squawk_linter/src/rules/prefer_repack.rs, test vacuum_freeze_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, v int);
INSERT INTO foo (id, v) SELECT g, g FROM generate_series(1, 1000) g;
ALTER TABLE foo CLUSTER ON foo_pkey;
-- migration:
VACUUM FREEZE foo;
