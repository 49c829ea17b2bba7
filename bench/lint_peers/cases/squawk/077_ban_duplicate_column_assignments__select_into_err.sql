-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test select_into_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
select 1 a, 2 a into z;
