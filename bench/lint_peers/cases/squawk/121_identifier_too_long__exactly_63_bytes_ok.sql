-- source: sbdchd/squawk crates/squawk_linter/src/rules/identifier_too_long.rs, test exactly_63_bytes_ok
-- peer_expects: ok
-- transaction: off
-- setup:

-- migration:
create table table_very_long_very_long_very_long_very_long_very_long_very_lo (id bigint);
