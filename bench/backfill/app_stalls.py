#!/usr/bin/env python3
"""What an application run by pgbench felt during named phases of a benchmark.

Used by bench/backfill/run.sh and bench/expand/e2e.sh. Reads pgbench's per-transaction logs
(`pgbench -l`, one line per transaction: client, transaction number, latency in microseconds,
script number, epoch seconds and microseconds of its end) and, per phase given as
NAME:START:END (epoch seconds), prints one JSON object per line:

- tx: transactions that ended in the phase; tps: tx / the phase's length;
- max_latency_ms: the slowest transaction whose interval [end - latency, end] overlaps the phase
  (the longest any one request waited), with its start and end, and p99_ms;
- longest_gap_ms: the longest time within the phase during which no transaction of any client
  ended (the whole application stopped);
- events: with --server-log (a server log whose log_line_prefix is '%n [%p] <%a> ': the epoch
  with milliseconds, the pid and the application_name), the checkpoints, autovacuum/autoanalyze runs and logged lock waits whose
  interval overlaps the slowest transaction (a checkpoint from its "starting" line to its
  "complete" line; an autovacuum or autoanalyze from its end minus its logged elapsed time to
  its end; a lock wait, logged with log_lock_waits once it exceeds deadlock_timeout, from its
  "acquired ... after N ms" line minus N to that line, with the pids that held the lock), so a
  stall they caused can be told from one the change caused;
- slowest: the --top slowest transactions of the phase with the same overlapping events.

Only what the logs say: no figure is estimated.
"""
import argparse
import glob
import json
import re
import sys


def read_transactions(pattern):
    txs = []  # (start, end, latency_ms)
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6 or not parts[2].isdigit():
                    continue  # a skipped or failed transaction is logged without a latency
                latency_us = int(parts[2])
                end = int(parts[4]) + int(parts[5]) / 1e6
                txs.append((end - latency_us / 1e6, end, latency_us / 1000.0))
    txs.sort(key=lambda t: t[1])
    return txs


ELAPSED = re.compile(r"elapsed: ([0-9.]+) s")
ACQUIRED = re.compile(r"process (\d+) acquired (\w+) on (.*) after ([0-9.]+) ms")
WAITING = re.compile(r"process (\d+) still waiting for")
LOCK_WAIT_TEXT = re.compile(r"lock wait (\d+) ms, held by \d+ \(([^)]*)\)")
HOLDER = re.compile(r"Process(?:es)? holding the lock: ([0-9, ]+)")
CHECKPOINT_TOTAL = re.compile(r"total=([0-9.]+) s")


def read_server_events(path, pid_names=None):
    """Intervals (start, end, text) of checkpoints and autovacuum/autoanalyze runs. A
    message's continuation lines (tab-indented) are joined to it first: autovacuum's elapsed
    time is on a later line of its message."""
    lines = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("\t") and lines:
                lines[-1] += " " + line.strip()
            else:
                lines.append(line.strip())
    # With log_line_prefix '%n [%p] <%a> ': each pid's application_name, to say whose lock an
    # app session waited for.
    apps = dict(pid_names or {})
    for line in lines:
        m = re.match(r"^\d{9,}\.\d+ \[(\d+)\] <([^>]*)> ", line)
        if m and m.group(2):
            apps[m.group(1)] = m.group(2)

    def who(pids):
        return ", ".join(f"{p} ({apps.get(p, 'unknown')})"
                         for p in re.findall(r"\d+", pids)) or "?"

    events = []
    open_checkpoint = None
    holders = {}  # waiting pid -> the pids holding the lock it waits for
    last_waiting = None
    for line in lines:
        m = re.match(r"^(\d{9,}\.\d+) (?:\[\d+\] )?(?:<[^>]*> )?", line)
        if not m or not m.group(0).strip():
            continue
        at = float(m.group(1))
        text = re.sub(r"^(LOG|DETAIL|WARNING):\s+", "", line[m.end():])
        if "checkpoint starting" in text:
            open_checkpoint = (at, text)
        elif "checkpoint complete" in text:
            total = CHECKPOINT_TOTAL.search(text)
            if open_checkpoint:
                start = open_checkpoint[0]
            else:
                start = at - (float(total.group(1)) if total else 0)
            events.append((start, at, "checkpoint: " + text[:200]))
            open_checkpoint = None
        elif "automatic vacuum" in text or "automatic analyze" in text:
            e = ELAPSED.search(text)
            events.append((at - (float(e.group(1)) if e else 0), at, text[:200]))
        elif WAITING.search(text):
            last_waiting = WAITING.search(text).group(1)
        elif HOLDER.search(text) and last_waiting:
            holders[last_waiting] = HOLDER.search(text).group(1).strip()
            last_waiting = None
        elif ACQUIRED.search(text):
            pid, mode, what, ms = ACQUIRED.search(text).groups()
            what = re.sub(r" of database \d+", "", what)
            events.append((at - float(ms) / 1000, at,
                           f"lock wait {float(ms):.0f} ms, held by {who(holders.pop(pid, ''))}: "
                           f"pid {pid} for {mode} on {what}"))
    if open_checkpoint:
        events.append((open_checkpoint[0], float("inf"),
                       "checkpoint (not complete): " + open_checkpoint[1][:200]))
    return events


def overlapping(events, start, end):
    return [{"from": round(s, 3), "to": None if e == float("inf") else round(e, 3), "what": w}
            for s, e, w in events if s <= end and e >= start]


def phase_figures(txs, events, name, start, end, top):
    inside = [t for t in txs if t[1] >= start and t[0] <= end]
    ended = [t for t in txs if start <= t[1] <= end]
    out = {"phase": name, "start": round(start, 3), "end": round(end, 3),
           "seconds": round(end - start, 3), "tx": len(ended),
           "tps": round(len(ended) / (end - start), 1) if end > start else None}
    if not inside:
        out.update({"max_latency_ms": None, "p99_ms": None, "longest_gap_ms": None})
        return out
    slowest = max(inside, key=lambda t: t[2])
    lat = sorted(t[2] for t in inside)
    out["max_latency_ms"] = round(slowest[2], 1)
    out["max_latency_from"] = round(slowest[0], 3)
    out["max_latency_to"] = round(slowest[1], 3)
    out["p99_ms"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2)
    # Longest stretch with no completion: between consecutive ends, clipped to the phase.
    ends = [start] + [t[1] for t in ended] + [end]
    gap, gap_at = 0.0, start
    for a, b in zip(ends, ends[1:]):
        if b - a > gap:
            gap, gap_at = b - a, a
    out["longest_gap_ms"] = round(gap * 1000, 1)
    out["longest_gap_from"] = round(gap_at, 3)
    if events is not None:
        # Every logged lock wait of the phase, by the application_name of the holder: whose
        # locks the app waited for, and for how long at most.
        waits = {}
        for s, e, w in events:
            m = LOCK_WAIT_TEXT.match(w)
            if m and s <= end and e >= start:
                holder = m.group(2)
                n, longest = waits.get(holder, (0, 0))
                waits[holder] = (n + 1, max(longest, int(m.group(1))))
        out["lock_waits_by_holder"] = {h: {"count": n, "longest_ms": l}
                                       for h, (n, l) in sorted(waits.items())}
        out["events"] = overlapping(events, slowest[0], slowest[1])
        out["slowest"] = [{"ms": round(t[2], 1), "from": round(t[0], 3), "to": round(t[1], 3),
                           "events": [e["what"] for e in overlapping(events, t[0], t[1])]}
                          for t in sorted(inside, key=lambda t: -t[2])[:top]]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--logs", required=True, help="glob of pgbench -l files")
    p.add_argument("--phase", action="append", default=[], help="NAME:START:END (epoch s)")
    p.add_argument("--server-log", help="server log with log_line_prefix '%%n ...'")
    p.add_argument("--pids", help="file of 'pid|application_name' lines sampled from "
                   "pg_stat_activity, to name the sessions that held a lock")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--slowest", action="store_true",
                   help="instead: per phase, its --top slowest transactions and what the server "
                   "logged during each, as lines on stderr and a JSON array on stdout")
    a = p.parse_args()
    txs = read_transactions(a.logs)
    pid_names = {}
    if a.pids:
        with open(a.pids) as f:
            for line in f:
                pid, _, name = line.strip().partition("|")
                if pid.isdigit() and name:
                    pid_names[pid] = name
    events = read_server_events(a.server_log, pid_names) if a.server_log else None
    for spec in a.phase:
        name, start, end = spec.rsplit(":", 2)
        figures = phase_figures(txs, events, name, float(start), float(end), a.top)
        if not a.slowest:
            print(json.dumps(figures))
            continue
        slowest = figures.get("slowest", [])
        print(f"{name}: the slowest app transactions (ms) and what the server logged during each:",
              file=sys.stderr)
        for t in slowest:
            ev = t["events"]
            what = "; ".join(ev[:3]) + (f" (+{len(ev) - 3} more)" if len(ev) > 3 else "")
            print(f"  {t['ms']:9.1f}  {what or 'no checkpoint, autovacuum or logged lock wait'}",
                  file=sys.stderr)
        waits = figures.get("lock_waits_by_holder", {})
        print("  lock waits over deadlock_timeout in the whole phase (any session), by the holder's "
              "application_name: " + (", ".join(f"{h}: {w['count']}, longest {w['longest_ms']} ms"
                                                for h, w in waits.items()) or "none"),
              file=sys.stderr)
        print(json.dumps({"slowest": [{"ms": t["ms"], "events": t["events"]} for t in slowest],
                          "lock_waits_by_holder": waits}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
