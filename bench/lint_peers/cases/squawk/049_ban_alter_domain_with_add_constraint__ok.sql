-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_alter_domain_with_add_constraint.rs, test ok
-- peer_expects: ok
-- transaction: off
-- note: OWNER TO you -> OWNER TO CURRENT_USER (no role you in a fresh cluster); the domains are not used by any table
-- setup:
CREATE DOMAIN domain_name_2 AS integer;
CREATE DOMAIN domain_name_3 AS integer CONSTRAINT other_domain_name CHECK (value > 0);
CREATE DOMAIN domain_name_4 AS integer CONSTRAINT constraint_name CHECK (value > 0);
CREATE DOMAIN domain_name_5 AS integer;
CREATE DOMAIN domain_name_6 AS integer;
CREATE DOMAIN domain_name_7 AS integer;
CREATE DOMAIN domain_name_8 AS integer;
ALTER DOMAIN domain_name_6 ADD CONSTRAINT constraint_name CHECK (value > 0) NOT VALID;
CREATE SCHEMA foo;
-- migration:
ALTER DOMAIN domain_name_2 SET NOT NULL;
ALTER DOMAIN domain_name_3 DROP CONSTRAINT other_domain_name;
ALTER DOMAIN domain_name_4 RENAME CONSTRAINT constraint_name TO other_constraint_name;
ALTER DOMAIN domain_name_5 RENAME TO other_domain_name;
ALTER DOMAIN domain_name_6 VALIDATE CONSTRAINT constraint_name;
ALTER DOMAIN domain_name_7 OWNER TO CURRENT_USER;
ALTER DOMAIN domain_name_8 SET SCHEMA foo;
