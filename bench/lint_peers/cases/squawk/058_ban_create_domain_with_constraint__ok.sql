-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_create_domain_with_constraint.rs, test ok
-- peer_expects: ok
-- transaction: off
-- setup:

-- migration:
CREATE DOMAIN domain_name_1 AS TEXT;
CREATE DOMAIN domain_name_2 AS CHARACTER VARYING;
