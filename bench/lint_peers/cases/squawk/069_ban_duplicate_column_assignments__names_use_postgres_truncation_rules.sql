-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test names_use_postgres_truncation_rules
-- peer_expects: violation
-- transaction: off
-- note: setup column is the 63-byte name both assignments truncate to
-- setup:
CREATE TABLE k (id bigint PRIMARY KEY, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa int);
INSERT INTO k (id, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
update k set aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaax = 1, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay = 2;
