-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_create_domain_with_constraint.rs, test err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
CREATE DOMAIN domain_name_3 AS NUMERIC(15,5) CHECK (value > 0);
