-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_drop_database.rs, test ban_drop_database
-- peer_expects: violation
-- transaction: off
-- judgement: dangerous: drops a whole database (the first statement fails here because a setup cannot create one to drop; either way the migration is not safe)
-- setup:

-- migration:
DROP DATABASE "table_name";
DROP DATABASE IF EXISTS "table_name";
DROP DATABASE IF EXISTS "table_name";
