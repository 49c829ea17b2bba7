-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_create_domain_with_constraint.rs, test err_with_multiple_constraints
-- peer_expects: violation
-- transaction: off
-- note: base type t -> integer
-- setup:

-- migration:
create domain d as integer check (value > 0) not null;
