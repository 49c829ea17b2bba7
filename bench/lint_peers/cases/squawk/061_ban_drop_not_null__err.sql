-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_drop_not_null.rs, test err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "bar_tbl" (id bigint PRIMARY KEY, "foo_col" text NOT NULL);
INSERT INTO "bar_tbl" (id, "foo_col") SELECT g, 'x' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "bar_tbl" ALTER COLUMN "foo_col" DROP NOT NULL;
