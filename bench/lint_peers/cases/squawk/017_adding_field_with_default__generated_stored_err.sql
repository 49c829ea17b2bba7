-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test generated_stored_err
-- peer_expects: violation
-- transaction: off
-- note: (bar + baz) refers to the new column itself, which PostgreSQL rejects; qux is an existing column
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, baz numeric, qux numeric);
INSERT INTO foo (id, baz, qux) SELECT g, g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE foo
ADD COLUMN bar numeric GENERATED ALWAYS AS (qux + baz) STORED;
