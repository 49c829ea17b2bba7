-- source: sbdchd/squawk crates/squawk_linter/src/rules/identifier_too_long.rs, test quoted_identifier_long_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
create table "table_very_long_very_long_very_long_very_long_very_long_very_long" (id bigint);
