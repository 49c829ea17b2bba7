-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_alter_domain_with_add_constraint.rs, test err
-- peer_expects: violation
-- transaction: off
-- note: setup: a table with rows uses the domain
-- setup:
CREATE DOMAIN domain_name AS integer;
CREATE TABLE amounts (id bigint PRIMARY KEY, amount domain_name);
INSERT INTO amounts (id, amount) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER DOMAIN domain_name ADD CONSTRAINT constraint_name CHECK (value > 0);
