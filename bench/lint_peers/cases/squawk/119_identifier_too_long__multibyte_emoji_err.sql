-- source: sbdchd/squawk crates/squawk_linter/src/rules/identifier_too_long.rs, test multibyte_emoji_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
create table "👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦" (id bigint);
