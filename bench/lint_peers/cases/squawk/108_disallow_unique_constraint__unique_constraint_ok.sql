-- source: sbdchd/squawk crates/squawk_linter/src/rules/disallow_unique_constraint.rs, test unique_constraint_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE "legacy_questiongrouppg" (id bigint PRIMARY KEY, "mongo_id" text);
INSERT INTO "legacy_questiongrouppg" (id, "mongo_id") SELECT g, 'm' || g FROM generate_series(1, 1000) g;
-- migration:
CREATE UNIQUE INDEX CONCURRENTLY "legacy_questiongrouppg_mongo_id_1f8f47d9_uniq_idx"
    ON "legacy_questiongrouppg" ("mongo_id");
ALTER TABLE "legacy_questiongrouppg" ADD CONSTRAINT "legacy_questiongrouppg_mongo_id_1f8f47d9_uniq" UNIQUE USING INDEX "legacy_questiongrouppg_mongo_id_1f8f47d9_uniq_idx";
