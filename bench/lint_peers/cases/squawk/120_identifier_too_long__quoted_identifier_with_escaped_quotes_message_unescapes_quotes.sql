-- source: sbdchd/squawk crates/squawk_linter/src/rules/identifier_too_long.rs, test quoted_identifier_with_escaped_quotes_message_unescapes_quotes
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
create table "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""b" (id bigint);
