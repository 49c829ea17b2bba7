-- source: sbdchd/squawk crates/squawk_linter/src/rules/constraint_missing_not_valid.rs, test not_valid_validate_assume_transaction_err
-- peer_expects: violation
-- transaction: on
-- setup:
CREATE TABLE "app_user" (id bigint PRIMARY KEY, name text);
INSERT INTO "app_user" (id, name) SELECT g, 'u' || g FROM generate_series(1, 1000) g;
CREATE TABLE "app_email" (id bigint PRIMARY KEY, user_id bigint);
INSERT INTO "app_email" (id, user_id) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "app_email" ADD CONSTRAINT "fk_user" FOREIGN KEY (user_id) REFERENCES "app_user" (id) NOT VALID;
ALTER TABLE "app_email" VALIDATE CONSTRAINT "fk_user";
