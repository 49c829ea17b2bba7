-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test create_view_with_duplicate_target_aliases_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
create view v as
select 1 a, 2 a;
