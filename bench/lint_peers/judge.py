#!/usr/bin/env python3
"""Judge each peer case on a real PostgreSQL 15 and compare with `tandem lint`.

For every case file under cases/: a fresh database, the setup, then the migration statement by
statement with probes between statements (locks from pg_locks in the same transaction, rewrites
from pg_class.relfilenode, scans from pg_stat_xact_user_tables and the server's DEBUG1 messages),
then a check of what the old app still finds (tables, columns, enum labels, rows) and whether its
writes (a row written naming only the columns it knows) still succeed.
The verdict rules are in README.md. Usage: judge.py --tandem BIN --psql-opts "..." --out DIR
"""
import argparse
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCKING = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}
TABLE_KINDS = {"r", "p", "m", "f"}

# Statements PostgreSQL refuses inside a transaction block: their locks are read by making them
# wait behind another session (probe_outside).
OUTSIDE_TX = [
    re.compile(r"^\s*create\s+(unique\s+)?index\s+concurrently", re.I),
    re.compile(r"^\s*drop\s+index\s+concurrently", re.I),
    re.compile(r"^\s*reindex\s*(\(\s*concurrently\s*\)|\s+\w+\s+concurrently)", re.I),
    re.compile(r"^\s*alter\s+table\s+.*\s+detach\s+partition\s+\S+\s+concurrently", re.I | re.S),
    re.compile(r"^\s*vacuum\b", re.I),
    re.compile(r"^\s*(create|drop)\s+database\b", re.I),
    re.compile(r"^\s*reindex\s+(system|database|schema)\b", re.I),
    re.compile(r"^\s*cluster\s*;?\s*$", re.I),
]
DB_NAME = "lint_peers_case"  # cases that name their database (REINDEX DATABASE) use this name
TX_BEGIN = re.compile(r"^\s*(begin|start\s+transaction)\b", re.I)
TX_END = re.compile(r"^\s*(commit|end|rollback|abort)\b(?!\s+prepared)", re.I)


def parse_case(path):
    head, setup, mig, part = {}, [], [], "head"
    for line in open(path, encoding="utf-8"):
        s = line.rstrip("\n")
        if part == "head":
            if s.strip() == "-- setup:":
                part = "setup"
                continue
            m = re.match(r"^--\s*([a-z_]+):\s?(.*)$", s)
            if m:
                key = m.group(1)
                head[key] = (head[key] + " " + m.group(2)) if key in head else m.group(2)
            continue
        if part == "setup" and s.strip() == "-- migration:":
            part = "mig"
            continue
        (setup if part == "setup" else mig).append(line)
    return head, "".join(setup), "".join(mig)


def split_sql(text):
    """Statements of a script: quotes, dollar quotes and comments respected."""
    out, cur, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
            cur.append(" ")
            continue
        if c in "'\"":
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        m = re.match(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$", text[i:]) if c == "$" else None
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            tag = m.group(0)
            j = text.find(tag, i + len(tag))
            j = n if j < 0 else j + len(tag)
            cur.append(text[i:j])
            i = j
            continue
        if c == ";":
            s = "".join(cur).strip()
            if s:
                out.append(s)
            cur, i = [], i + 1
            continue
        cur.append(c)
        i += 1
    s = "".join(cur).strip()
    if s:
        out.append(s)
    return out


class Pg:
    def __init__(self, opts):
        self.opts = opts

    def psql(self, db, script, stop=True, extra=()):
        cmd = ["psql", "-X", "-q", "-d", db, "-v", "ON_ERROR_STOP=%d" % (1 if stop else 0)]
        cmd += self.opts + list(extra)
        return subprocess.run(cmd, input=script, capture_output=True, text=True)

    def query_json(self, db, sql):
        r = self.psql(db, sql, extra=["-A", "-t"])
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return json.loads(r.stdout.strip() or "null")


PROBE_SQL = r"""
CREATE SCHEMA judge;
CREATE TABLE judge.pre (oid oid PRIMARY KEY, name text, kind "char", rows bigint);
CREATE FUNCTION judge.mark(tag text, n int) RETURNS void LANGUAGE plpgsql AS $j$
DECLARE j text;
BEGIN
  SELECT json_build_object(
    'locks', (SELECT coalesce(json_agg(json_build_object('rel', p.name, 'kind', p.kind,
                'mode', l.mode)), '[]') FROM pg_locks l JOIN judge.pre p ON p.oid = l.relation
              WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted),
    'files', (SELECT coalesce(json_object_agg(p.name, c.relfilenode), '{}')
              FROM judge.pre p JOIN pg_class c ON c.oid = p.oid),
    'scans', (SELECT coalesce(json_object_agg(p.name, s.seq_scan), '{}')
              FROM judge.pre p JOIN pg_stat_xact_user_tables s ON s.relid = p.oid))::text
  INTO j;
  RAISE NOTICE 'JUDGE % % %', tag, n, j;
END $j$;
"""

RECORD_PRE_SQL = r"""
INSERT INTO judge.pre
SELECT c.oid, n.nspname || '.' || c.relname, c.relkind, 0 FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','p','m','f','i','I') AND n.nspname NOT IN ('judge','pg_catalog',
  'information_schema','pg_toast') AND n.nspname NOT LIKE 'pg_temp%';
DO $d$ DECLARE r record; k bigint; BEGIN
  FOR r IN SELECT p.oid, c.relkind FROM judge.pre p JOIN pg_class c ON c.oid = p.oid
           WHERE c.relkind IN ('r','p','m') LOOP
    EXECUTE format('SELECT count(*) FROM %s', r.oid::regclass) INTO k;
    UPDATE judge.pre SET rows = k WHERE oid = r.oid;
  END LOOP; END $d$;
"""

# What the running old app sees: tables, their columns, enum labels, row counts (by name).
APP_VIEW_SQL = r"""
SELECT json_build_object(
 'tables', (SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname,
     (SELECT coalesce(json_agg(a.attname ORDER BY a.attnum), '[]') FROM pg_attribute a
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)), '{}')
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r','p','v','m','f') AND n.nspname NOT IN ('judge','pg_catalog',
     'information_schema','pg_toast') AND n.nspname NOT LIKE 'pg_temp%'),
 'enums', (SELECT coalesce(json_object_agg(t.typname, (SELECT json_agg(e.enumlabel ORDER BY
     e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)), '{}') FROM pg_type t
   WHERE t.typtype = 'e'),
 'rows', (SELECT coalesce(json_object_agg(p.name, p.rows), '{}') FROM judge.pre p
   WHERE p.kind IN ('r','p','m')));
"""


def count_rows_sql(names):
    parts = ["SELECT json_build_object("]
    items = []
    for nm in names:
        sch, rel = nm.split(".", 1)
        items.append("%s, (SELECT count(*) FROM ONLY %s.%s)" % (
            "'" + nm.replace("'", "''") + "'", '"' + sch.replace('"', '""') + '"',
            '"' + rel.replace('"', '""') + '"'))
    if not items:
        return "SELECT '{}'::json;"
    return "SELECT json_build_object(" + ", ".join(items) + ");"


WRITABLE_SQL = r"""
SELECT coalesce(json_object_agg(p.name, json_build_object(
  'cols', (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
           WHERE a.attrelid = p.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = ''),
  'pk', (SELECT json_agg(a.attname) FROM pg_constraint k JOIN pg_attribute a
         ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
         WHERE k.conrelid = p.oid AND k.contype = 'p'))), '{}')
FROM judge.pre p WHERE p.kind = 'r' AND p.rows > 0;
"""


def sample_rows(pg, db, writable):
    """One existing row per table, as the old app would write it (taken before the migration)."""
    parts = ["'%s', (SELECT to_json(x) FROM ONLY %s x LIMIT 1)" % (t.replace("'", "''"),
                                                                   quote_name(t))
             for t in sorted(writable)]
    if not parts:
        return {}
    return pg.query_json(db, "SELECT json_build_object(%s);" % ", ".join(parts))


def old_app_writes(pg, db, writable, rows, present):
    """Replay a write of the old app: the sampled row (values from before the migration) is
    deleted (by primary key, or by its values) and inserted again naming only the columns the
    table had before, in one statement of a rolled-back transaction. Returns {table: error}
    for the writes that fail."""
    lines = []
    for t, w in sorted(writable.items()):
        cols, row = w["cols"] or [], rows.get(t)
        if row is None or t not in present or any(c not in present[t] for c in cols):
            continue
        q = quote_name(t)
        lit = "'" + json.dumps(row).replace("'", "''") + "'::json"
        cl = ", ".join('"%s"' % c.replace('"', '""') for c in cols)
        rl = ", ".join('r."%s"' % c.replace('"', '""') for c in cols)
        if w["pk"]:
            pk = ", ".join('"%s"' % c.replace('"', '""') for c in w["pk"])
            pr = ", ".join('r."%s"' % c.replace('"', '""') for c in w["pk"])
            delete = ("WITH d AS (DELETE FROM ONLY %s WHERE (%s) = (SELECT %s FROM "
                      "json_populate_record(NULL::%s, %s) r) RETURNING 1) " % (q, pk, pr, q, lit))
        else:  # no primary key: the first row equal to the sample in every column it knew
            xl = ", ".join('x."%s"' % c.replace('"', '""') for c in cols)
            delete = ("WITH d AS (DELETE FROM ONLY %s WHERE ctid = (SELECT x.ctid FROM ONLY %s x, "
                      "json_populate_record(NULL::%s, %s) r WHERE ROW(%s) IS NOT DISTINCT FROM "
                      "ROW(%s) LIMIT 1) RETURNING 1) " % (q, q, q, lit, xl, rl))
        # The INSERT reads d, so the DELETE runs first and the primary key is free again.
        join = ", (SELECT count(*) FROM d) z"
        lines += ["BEGIN;", "\\warn WRITE %s" % t,
                  "%sINSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM "
                  "json_populate_record(NULL::%s, %s) r%s;" % (delete, q, cl, rl, q, lit, join),
                  "\\warn WRITE-END", "ROLLBACK;"]
    if not lines:
        return {}
    r = pg.psql(db, "\n".join(lines) + "\n", stop=False, extra=["-o", "/dev/null"])
    out, cur = {}, None
    for line in r.stderr.splitlines():
        if line.startswith("WRITE "):
            cur = line[6:]
        elif line == "WRITE-END":
            cur = None
        elif cur and "ERROR:" in line and cur not in out:
            out[cur] = line.split("ERROR:", 1)[1].strip()
    return out


def outside_tx_mode(stmt):
    return any(rx.search(stmt) for rx in OUTSIDE_TX), None


class Session:
    """A psql session fed statement by statement; its stderr (notices, errors, markers) is read
    by a thread so the judge can act while a statement waits."""

    def __init__(self, pg, db):
        cmd = ["psql", "-X", "-q", "-d", db, "-v", "ON_ERROR_STOP=0", "-o", "/dev/null"] + pg.opts
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def send(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def wait_for(self, marker, timeout=120.0):
        """Collect lines up to marker; True when seen."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.q.get(timeout=0.05)
            except queue.Empty:
                continue
            if line is None:
                return False
            self.lines.append(line)
            if line.strip() == marker:
                return True
        return False

    def seen(self, marker):
        while True:
            try:
                line = self.q.get_nowait()
            except queue.Empty:
                return marker in (x.strip() for x in self.lines[-50:])
            if line is None:
                return True
            self.lines.append(line)
            if line.strip() == marker:
                return True

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=60)
        while True:
            line = self.q.get(timeout=30)
            if line is None:
                break
            self.lines.append(line)
        return "\n".join(self.lines)


def probe_outside(pg, db, main, i, chunk, lockable):
    """Run a statement that must run outside a transaction block while another session holds
    ROW EXCLUSIVE on every pre-existing table: ROW EXCLUSIVE conflicts with exactly the modes that
    block writes (SHARE and stronger), so the statement waits on a relation lock only if it asks
    for one of those. The first lock it waits on is recorded, then the blocker lets go."""
    blocker = None
    if lockable:
        blocker = Session(pg, db)
        blocker.send("BEGIN;\nLOCK TABLE %s IN ROW EXCLUSIVE MODE;\n\\warn LOCKED" % ", ".join(
            quote_name(t) for t in lockable))
        blocker.wait_for("LOCKED", timeout=30)
    main.send(chunk)
    waited = None
    deadline = time.time() + 20
    while blocker and time.time() < deadline:
        if main.seen("JUDGE-DONE %d" % i):
            break
        r = pg.psql(db, "SELECT coalesce(json_agg(json_build_object('type', l.locktype, 'mode', "
                        "l.mode, 'rel', (SELECT n.nspname || '.' || c.relname FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = l.relation)"
                        ")), '[]') FROM pg_locks l WHERE NOT l.granted AND l.pid = %d;" % main.pid,
                    extra=["-A", "-t"])
        got = json.loads(r.stdout.strip() or "[]") if r.returncode == 0 else []
        if got:
            waited = got[0]
            break
        time.sleep(0.05)
    if blocker:
        blocker.send("COMMIT;")
        blocker.close()
    return waited


def quote_name(qualified):
    sch, rel = qualified.split(".", 1)
    return '"%s"."%s"' % (sch.replace('"', '""'), rel.replace('"', '""'))


def run_migration(pg, db, stmts, tx_on, lockable):
    """One psql session: probes around each statement; returns per-statement observations."""
    main = Session(pg, db)
    main.send("DO $p$ BEGIN RAISE NOTICE 'JUDGE-PID %', pg_backend_pid(); END $p$;\n\\warn PID")
    main.wait_for("PID", timeout=60)
    main.pid = int(next(re.search(r"JUDGE-PID (\d+)", x).group(1) for x in main.lines
                        if "JUDGE-PID" in x))
    main.send("SET client_min_messages = notice;" + ("\nBEGIN;" if tx_on else ""))
    user_tx = False
    plan = []
    for i, st in enumerate(stmts):
        outside, _ = outside_tx_mode(st)
        is_begin, is_end = bool(TX_BEGIN.match(st)), bool(TX_END.match(st))
        wrap = (not tx_on) and (not user_tx) and not outside and not is_begin and not is_end
        plan.append({"wrapped": wrap, "outside": outside and not tx_on and not user_tx})
        pre = (["BEGIN;"] if wrap else []) + ["SELECT judge.mark('before', %d);" % i,
                                              "SET client_min_messages = debug1;",
                                              "\\warn JUDGE-STMT %d" % i]
        post = ["\\warn JUDGE-DONE %d" % i, "SET client_min_messages = notice;",
                "SELECT judge.mark('after', %d);" % i] + (["COMMIT;"] if wrap else [])
        post.append("\\warn JUDGE-END %d" % i)
        chunk = "\n".join(pre + [st + ";"] + post)
        if plan[i]["outside"]:
            plan[i]["waited"] = probe_outside(pg, db, main, i, chunk, lockable)
        else:
            main.send(chunk)
        main.wait_for("JUDGE-END %d" % i)
        if is_begin:
            user_tx = True
        elif is_end:
            user_tx = False
    if tx_on:
        main.send("\\warn JUDGE-STMT -1\nCOMMIT;\n\\warn JUDGE-DONE -1")
    err = main.close()
    return parse_trace(err, len(stmts)), plan, user_tx


def parse_trace(err, n):
    obs = {i: {"before": None, "after": None, "messages": [], "error": None} for i in range(-1, n)}
    cur = None
    for line in err.splitlines():
        m = re.search(r"JUDGE (before|after) (-?\d+) (\{.*\})\s*$", line)
        if m:
            obs[int(m.group(2))][m.group(1)] = json.loads(m.group(3))
            continue
        m = re.match(r"^JUDGE-(STMT|DONE) (-?\d+)$", line.strip())
        if m:
            cur = int(m.group(2)) if m.group(1) == "STMT" else None
            continue
        if cur is None:
            continue
        text = re.sub(r"^psql:[^:]*:\d+:\s*", "", line)
        if text.startswith("ERROR:") and obs[cur]["error"] is None:
            obs[cur]["error"] = text[6:].strip()
        obs[cur]["messages"].append(text)
    return obs


def judge_case(pg, case_path, admin_db):
    head, setup, mig = parse_case(case_path)
    tx_on = head.get("transaction", "on").strip().lower() == "on"
    db = DB_NAME
    pg.psql(admin_db, "DROP DATABASE IF EXISTS %s;" % db)
    r = pg.psql(admin_db, "CREATE DATABASE %s TEMPLATE template0;" % db)
    if r.returncode:
        raise RuntimeError(r.stderr)
    r = pg.psql(db, PROBE_SQL + "SET client_min_messages = warning;\n" + setup + "\n"
                + RECORD_PRE_SQL)
    if r.returncode:
        return {"verdict": "setup-failed", "reasons": ["setup fails: " + r.stderr.strip()[:300]]}
    pre = pg.query_json(db, "SELECT coalesce(json_agg(json_build_object('name', name, "
                            "'kind', kind, 'rows', rows)), '[]') FROM judge.pre;")
    pre_rows = {p["name"]: p["rows"] for p in pre}
    pre_kind = {p["name"]: p["kind"] for p in pre}
    pre_tables = [p["name"] for p in pre if p["kind"] in TABLE_KINDS]
    app_before = pg.query_json(db, APP_VIEW_SQL)
    writable = pg.query_json(db, WRITABLE_SQL)
    rows_before = sample_rows(pg, db, writable)
    writes_before = old_app_writes(pg, db, writable, rows_before, app_before["tables"])
    stmts = split_sql(mig)
    lockable = [p["name"] for p in pre if p["kind"] in ("r", "p", "f")]
    obs, plan, left_open = run_migration(pg, db, stmts, tx_on, lockable)
    reasons, notes = [], []
    per_stmt = []
    for i, st in enumerate(stmts):
        o = obs[i]
        b, a = o["before"], o["after"]
        info = {"sql": st, "error": o["error"], "locks": [], "rewritten": [], "scanned": [],
                "messages": [m for m in o["messages"] if re.search(
                    r"rewriting|verifying|building index|validating|WARNING", m)]}
        if o["error"] and not any(" fails: " in x for x in reasons):
            reasons.append("statement %d fails: %s" % (i + 1, o["error"]))
        for m in o["messages"]:
            if m.startswith("WARNING:") and "transaction" in m:
                reasons.append("statement %d: %s" % (i + 1, m))
        if plan[i]["outside"]:
            w = plan[i].get("waited")
            if w and w.get("type") == "relation" and w.get("rel") in pre_tables:
                info["locks"] = [{"rel": w["rel"], "mode": w["mode"], "kind": "r",
                                  "from": "waited behind another session's ROW EXCLUSIVE"}]
            info["outside_probe"] = w or "did not wait behind ROW EXCLUSIVE held by another session"
        elif a:
            info["locks"] = [dict(l, **{"from": "pg_locks"}) for l in a["locks"]
                             if l["kind"] in TABLE_KINDS]
        if b and a:
            for name, fn in b["files"].items():
                if name in a["files"] and a["files"][name] != fn and fn != 0:
                    info["rewritten"].append(name)
            for name, cnt in a["scans"].items():
                if cnt > b["scans"].get(name, 0) and pre_rows.get(name, 0) > 0:
                    info["scanned"].append(name)
        for m in o["messages"]:
            mm = re.search(r'(rewriting|verifying) table "([^"]+)"', m)
            if mm and any(t.endswith("." + mm.group(2)) and pre_rows.get(t, 0) > 0
                          for t in pre_tables):
                info["scanned"].append("%s (%s)" % (mm.group(2), mm.group(1)))
            mm = re.search(r'building index "([^"]+)" on table "([^"]+)"', m)
            if mm and any(t.endswith("." + mm.group(2)) and pre_rows.get(t, 0) > 0
                          for t in pre_tables):
                info["scanned"].append("%s (index build %s)" % (mm.group(2), mm.group(1)))
        long_op = [x for x in info["rewritten"]] + info["scanned"]
        blocking = sorted({"%s %s" % (l["rel"], l["mode"]) for l in info["locks"]
                           if l["mode"] in BLOCKING})
        if long_op and blocking:
            reasons.append("statement %d: %s while holding %s" % (
                i + 1, ", ".join(sorted(set(long_op))), ", ".join(blocking)))
        per_stmt.append(info)
    if left_open and not tx_on:
        reasons.append("the migration ends inside a transaction block it opened: the session "
                       "ends and the server rolls the work back")
    if obs[-1]["error"]:
        reasons.append("the runner's COMMIT fails: " + obs[-1]["error"])
    for m in obs[-1]["messages"]:
        if m.startswith("WARNING:") and "transaction" in m:
            reasons.append("the runner's COMMIT: " + m)
    # What the old app still finds.
    app_after = pg.query_json(db, APP_VIEW_SQL)
    for t, cols in app_before["tables"].items():
        if t not in app_after["tables"]:
            reasons.append("table %s the old app uses is gone" % t)
            continue
        gone = [c for c in cols if c not in app_after["tables"][t]]
        if gone:
            reasons.append("column(s) %s of %s the old app uses are gone" % (", ".join(gone), t))
    for e, labels in app_before["enums"].items():
        now = app_after["enums"].get(e)
        if now is None:
            reasons.append("enum type %s is gone" % e)
        else:
            lost = [x for x in labels if x not in now]
            if lost:
                reasons.append("enum %s lost label(s) %s" % (e, ", ".join(lost)))
    # Plain tables only: a partitioned parent's rows move with a detached partition, not lost.
    writes_after = old_app_writes(pg, db, writable, rows_before, app_after["tables"])
    for t, e in sorted(writes_after.items()):
        if t not in writes_before:
            reasons.append("the old app's write to %s fails: %s" % (t, e))
    still = [t for t in pre_tables if t in app_after["tables"] and pre_rows.get(t, 0) > 0
             and pre_kind.get(t) == "r"]
    counts = pg.query_json(db, count_rows_sql(still))
    for t in still:
        if counts.get(t, 0) < pre_rows[t]:
            reasons.append("rows of %s were deleted (%d -> %d)" % (
                t, pre_rows[t], counts.get(t, 0)))
    pg.psql(admin_db, "DROP DATABASE IF EXISTS %s;" % db)
    return {"verdict": "dangerous" if reasons else "safe", "reasons": reasons,
            "statements": per_stmt, "transaction": "on" if tx_on else "off"}


def run_tandem(tandem, case_path, head, setup, mig, workdir):
    d = os.path.join(workdir, "migrations")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "20200101000000_setup.sql"), "w") as f:
        f.write("-- migrate:up\n" + setup)
    tx_on = head.get("transaction", "on").strip().lower() == "on"
    case_file = os.path.join(d, "20200101000001_case.sql")
    with open(case_file, "w") as f:
        f.write(("" if tx_on else "-- tandem:transaction off\n") + "-- migrate:up\n" + mig)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PG")}
    r = subprocess.run([tandem, "lint", "--format", "json", case_file], cwd=workdir,
                       capture_output=True, text=True, env=env)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        return {"flags": None, "findings": [], "raw": (r.stdout + r.stderr)[:500],
                "exit": r.returncode}
    fs = []
    for f in out.get("findings", []):
        path = f.get("file") or f.get("path") or ""
        if path and not path.endswith("_case.sql"):
            continue
        fs.append({"rule": f.get("rule"), "severity": f.get("severity"),
                   "line": f.get("line"), "message": f.get("message", "")[:200]})
    flags = any(f["severity"] in ("error", "warning") for f in fs)
    return {"flags": flags, "findings": fs, "exit": r.returncode}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tandem", required=True)
    ap.add_argument("--psql-opts", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--db", default=DB_NAME)
    args = ap.parse_args()
    globals()["DB_NAME"] = args.db
    pg = Pg(args.psql_opts.split())
    cases = []
    for suite in ("squawk", "strong_migrations"):
        d = os.path.join(HERE, "cases", suite)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".sql") and args.only in suite + "/" + fn:
                cases.append((suite, os.path.join(d, fn)))
    work = tempfile.mkdtemp(prefix="lint_peers_")
    results = []
    for suite, path in cases:
        head, setup, mig = parse_case(path)
        rec = {"suite": suite, "case": os.path.basename(path)[:-4], "head": head,
               "migration": mig.strip()}
        if head.get("exclude"):
            rec["excluded"] = head["exclude"]
        else:
            rec["truth"] = judge_case(pg, path, "postgres")
            rec["tandem"] = run_tandem(args.tandem, path, head, setup, mig, work)
        results.append(rec)
        v = rec.get("truth", {}).get("verdict", "excluded")
        t = rec.get("tandem", {}).get("flags")
        print("%-18s %-60s truth=%-12s tandem=%s" % (suite, rec["case"], v, t), file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
