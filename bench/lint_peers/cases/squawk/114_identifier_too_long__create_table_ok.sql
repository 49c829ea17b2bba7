-- source: sbdchd/squawk crates/squawk_linter/src/rules/identifier_too_long.rs, test create_table_ok
-- peer_expects: ok
-- transaction: off
-- setup:

-- migration:
create table short_name (col bigint);
