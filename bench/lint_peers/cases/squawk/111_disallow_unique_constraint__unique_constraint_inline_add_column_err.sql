-- source: sbdchd/squawk crates/squawk_linter/src/rules/disallow_unique_constraint.rs, test unique_constraint_inline_add_column_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, v int);
INSERT INTO foo (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE foo ADD COLUMN bar text CONSTRAINT foo_bar_unique UNIQUE;
