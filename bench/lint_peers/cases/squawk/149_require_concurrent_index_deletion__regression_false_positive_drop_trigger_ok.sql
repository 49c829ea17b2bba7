-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_index_deletion.rs, test regression_false_positive_drop_trigger_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE foo_table (id bigint PRIMARY KEY, v int);
INSERT INTO foo_table (id, v) SELECT g, g FROM generate_series(1, 1000) g;
CREATE FUNCTION trg_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER "trigger" BEFORE INSERT ON foo_table FOR EACH ROW EXECUTE FUNCTION trg_fn();
-- migration:
DROP TRIGGER IF EXISTS trigger on foo_table;
