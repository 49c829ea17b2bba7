-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test arbitrary_func_err
-- peer_expects: violation
-- transaction: off
-- note: setup defines myjsonb() in PL/pgSQL with the default volatility (VOLATILE); a LANGUAGE sql body would be inlined to a constant and not rewrite
-- setup:
CREATE FUNCTION myjsonb() RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RETURN '{}'::jsonb; END $$;
CREATE TABLE core_recipe (id bigint PRIMARY KEY, name text);
INSERT INTO core_recipe (id, name) SELECT g, 'r' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "core_recipe" ADD COLUMN "foo" jsonb DEFAULT myjsonb();
