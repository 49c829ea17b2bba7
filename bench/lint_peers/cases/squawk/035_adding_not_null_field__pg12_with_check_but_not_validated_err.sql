-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_not_null_field.rs, test pg12_with_check_but_not_validated_err
-- peer_expects: violation
-- transaction: off
-- note: squawk runs with pg_version 12, same rule as 15 here
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, bar int, baz int);
INSERT INTO foo (id, bar, baz) SELECT g, g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
