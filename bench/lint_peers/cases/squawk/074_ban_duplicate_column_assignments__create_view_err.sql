-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test create_view_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
create view v (a, a) as
select 1, 2;
