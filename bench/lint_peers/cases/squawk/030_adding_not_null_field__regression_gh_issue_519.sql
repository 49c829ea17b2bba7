-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_not_null_field.rs, test regression_gh_issue_519
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE my_table (id bigint PRIMARY KEY, my_column int);
INSERT INTO my_table (id, my_column) SELECT g, g FROM generate_series(1, 1000) g;
CREATE TABLE alembic_version (version_num text);
INSERT INTO alembic_version VALUES ('a');
-- migration:
BEGIN;
ALTER TABLE my_table ALTER COLUMN my_column SET NOT NULL;
UPDATE alembic_version SET version_num='b' WHERE alembic_version.version_num = 'a';
COMMIT;
