-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_reindex.rs, test reindex_system_ok
-- peer_expects: ok
-- transaction: off
-- note: mydb -> the case's own database
-- judgement: dangerous: rebuilds every system catalog index under SHARE locks on the catalogs (pre-existing tables): the app's DDL, temp tables and catalog writes wait; PostgreSQL has no concurrent form for it
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, v int);
INSERT INTO foo (id, v) SELECT g, g FROM generate_series(1, 1000) g;
CREATE INDEX foo_v ON foo (v);
-- migration:
REINDEX SYSTEM lint_peers_case;
