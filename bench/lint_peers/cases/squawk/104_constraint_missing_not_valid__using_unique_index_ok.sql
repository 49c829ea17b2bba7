-- source: sbdchd/squawk crates/squawk_linter/src/rules/constraint_missing_not_valid.rs, test using_unique_index_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE "app_email" (id bigint PRIMARY KEY, email text);
INSERT INTO "app_email" (id, email) SELECT g, 'e' || g FROM generate_series(1, 1000) g;
CREATE UNIQUE INDEX "email_idx" ON app_email (email);
-- migration:
ALTER TABLE "app_email" ADD CONSTRAINT "email_uniq" UNIQUE USING INDEX "email_idx";
