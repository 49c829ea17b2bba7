-- The application beside the backfill (bench/backfill/run.sh): one single-row write and one
-- single-row read by a random id per transaction, as a web request would.
\set id random(1, :rows)
UPDATE t SET a = a WHERE id = :id;
SELECT a, c FROM t WHERE id = :id;
