-- source: sbdchd/squawk crates/squawk_linter/src/rules/renaming_column.rs, test err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "table_name" (id bigint PRIMARY KEY, "column_name" text);
INSERT INTO "table_name" (id, "column_name") SELECT g, 'c' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "table_name" RENAME COLUMN "column_name" TO "new_column_name";
