-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_not_null_field.rs, test pg12_with_different_column_validated_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, bar int, baz int);
INSERT INTO foo (id, bar, baz) SELECT g, g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE foo ADD CONSTRAINT baz_not_null CHECK (baz IS NOT NULL) NOT VALID;
ALTER TABLE foo VALIDATE CONSTRAINT baz_not_null;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
