-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_not_null_field.rs, test pg16_cross_migration_validate_then_set_not_null_ok
-- peer_expects: ok
-- transaction: off
-- note: the NOT VALID constraint comes from an earlier migration (the setup)
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, bar int, baz int);
INSERT INTO foo (id, bar, baz) SELECT g, g, g FROM generate_series(1, 1000) g;
ALTER TABLE foo ADD CONSTRAINT foo_bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
-- migration:
ALTER TABLE foo VALIDATE CONSTRAINT foo_bar_not_null;

ALTER TABLE foo
ALTER COLUMN bar
SET NOT NULL;

ALTER TABLE foo
DROP CONSTRAINT foo_bar_not_null;
