-- source: sbdchd/squawk crates/squawk_linter/src/rules/renaming_table.rs, test err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "table_name" (id bigint PRIMARY KEY, v int);
INSERT INTO "table_name" (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "table_name" RENAME TO "new_table_name";
