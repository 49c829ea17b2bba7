-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_primary_key_constraint.rs, test serial_primary_key
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE a (v int);
INSERT INTO a SELECT g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE a ADD COLUMN b SERIAL PRIMARY KEY;
