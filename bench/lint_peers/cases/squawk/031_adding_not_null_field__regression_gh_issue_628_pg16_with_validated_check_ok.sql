-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_not_null_field.rs, test regression_gh_issue_628_pg16_with_validated_check_ok
-- peer_expects: ok
-- transaction: off
-- note: a backfill (UPDATE foo SET bar = id) is added between the two transactions, or VALIDATE fails on a table with rows; squawk runs with pg_version 16, same rule as 15 here
-- setup:
CREATE TABLE foo (id bigint PRIMARY KEY, baz int);
INSERT INTO foo (id, baz) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
BEGIN;
ALTER TABLE foo ADD COLUMN bar BIGINT;
ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;
COMMIT;
UPDATE foo SET bar = id;
BEGIN;
ALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;
ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;
ALTER TABLE foo DROP CONSTRAINT bar_not_null;
COMMIT;
