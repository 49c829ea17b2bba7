-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_index_creation.rs, test new_table_in_assume_transaction_ok
-- peer_expects: ok
-- transaction: on
-- setup:

-- migration:
CREATE TABLE "core_foo" (
"id" serial NOT NULL PRIMARY KEY,
"tenant_id" integer NULL
);
CREATE INDEX "core_foo_tenant_id_4d397ef9" ON "core_foo" ("tenant_id");
