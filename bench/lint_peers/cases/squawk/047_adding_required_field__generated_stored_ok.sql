-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_required_field.rs, test generated_stored_ok
-- peer_expects: ok
-- transaction: off
-- note: (bar + baz) -> (qux + baz)
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, baz numeric, qux numeric);
INSERT INTO foo (id, baz, qux) SELECT g, g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE foo
    ADD COLUMN bar numeric GENERATED ALWAYS AS (qux + baz) STORED ;
