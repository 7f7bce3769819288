#!/usr/bin/env python3
"""Add activity events to a migrated Ikigai database for `make bench` (python3 stdlib only).

    gen_activity.py --sqlite PATH            --first 1 --last 100000
    gen_activity.py --mysql-url mysql://USER:PASS@HOST:PORT/DB --first 100001 --last 10000000

Event number n (from --first to --last) is written at `base + n * step` milliseconds, where
`base` is --days (300) before --now and `step` spreads --total (10,000,000) events evenly up to
--now: every event is younger than the default retention (365 days), so the purge job leaves
them alone, and a second call with the next numbers continues the same timeline (100,000 events
first, then the 9,900,000 others up to 10 million). Ids are UUIDv7-shaped lowercase text whose
48-bit prefix is the event's time and whose last 48 bits are n (unique). The actor is one of the
existing users (event n: user n mod users, in id order), the target the same user, the action
one of six that the server writes; ip, user agent and request id look like real ones; data is
`{}`.

The rows are made by the database itself, not sent from here: SQLite runs one INSERT ... SELECT
over a recursive counter (journal off, synchronous off, the secondary indexes of `activity`
dropped first and rebuilt from their own CREATE INDEX text after); MariaDB runs one
INSERT ... SELECT over its built-in sequence tables (`seq_1_to_N`) per million events, with the
secondary keys dropped first and added back after (sorted index builds). The password goes to
the client in MYSQL_PWD, not on its command line.

Prints one summary line to stdout:
  GEN_ACTIVITY backend=sqlite first=1 last=100000 events=100000 total_rows=100000 seconds=0.9
"""

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_tasks import mysql_client, sqlite_bulk_mode  # noqa: E402

DAY_MS = 86_400_000
ACTIONS = ("auth.login", "task.created", "task.updated", "auth.token_refreshed", "user.updated", "auth.logout")


def timeline(args):
    base = args.now - args.days * DAY_MS
    step = max(1, (args.days * DAY_MS) // args.total)
    return base, step


def action_case(n):  # SQL CASE choosing one of ACTIONS by n mod 6
    return "CASE " + n + " % 6 " + " ".join(f"WHEN {i} THEN '{a}'" for i, a in enumerate(ACTIONS)) + " END"


def gen_sqlite(args):
    if not os.path.exists(args.sqlite):
        sys.exit(f"gen_activity: {args.sqlite} does not exist (run `ikigai migrate` first)")
    con = sqlite3.connect(args.sqlite, isolation_level=None)
    cur = con.cursor()
    mode = sqlite_bulk_mode(cur)
    users = cur.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    if users == 0:
        sys.exit("gen_activity: no users (create some first)")
    base, step = timeline(args)
    t0 = time.monotonic()
    cur.execute("BEGIN")
    cur.execute("CREATE TEMP TABLE gen_users (k INTEGER PRIMARY KEY, id TEXT NOT NULL)")
    cur.execute("INSERT INTO gen_users (k, id) SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, id FROM users")
    indexes = cur.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='activity' "
                          "AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    at = "(:base + c.n * :step)"
    cur.execute(
        "WITH RECURSIVE c(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM c WHERE n < :last) "
        "INSERT INTO activity (id, at, actor_id, action, target_type, target_id, ip, user_agent, request_id, data) "
        f"SELECT printf('%08x-%04x-7%03x-8%03x-%012x', {at} / 65536, {at} % 65536, c.n % 4096, "
        f"(c.n / 4096) % 4096, c.n), {at}, u.id, {action_case('c.n')}, 'user', u.id, "
        "'198.51.100.' || (c.n % 250 + 1), 'Mozilla/5.0 (X11; Linux x86_64) bench', "
        "printf('bench-%d', c.n), '{}' "
        "FROM c JOIN gen_users u ON u.k = c.n % :users",
        {"first": args.first, "last": args.last, "base": base, "step": step, "users": users})
    t_rows = time.monotonic() - t0
    for _, sql in indexes:
        cur.execute(sql)
    cur.execute("COMMIT")
    total = cur.execute("SELECT COUNT(*) FROM activity").fetchone()[0]
    cur.execute(f"PRAGMA journal_mode={mode}")
    con.close()
    print(f"[gen_activity] sqlite: rows {t_rows:.1f} s, {len(indexes)} indexes rebuilt in "
          f"{time.monotonic() - t0 - t_rows:.1f} s", file=sys.stderr)
    return total


def gen_mysql(args):
    cmd, env = mysql_client("gen_activity", args.mysql_url, args.client)

    def run(sql, what):
        done = subprocess.run(cmd + ["-N", "--raw"], input=sql, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"gen_activity: {what} failed: {done.stderr.strip()}")
        return done.stdout

    users = int(run("SELECT COUNT(*) FROM users;", "counting users").strip() or 0)
    if users == 0:
        sys.exit("gen_activity: no users (create some first)")
    keys = []
    for line in run("SHOW CREATE TABLE activity;", "SHOW CREATE TABLE activity").replace("\\n", "\n").splitlines():
        m = re.match(r"\s*KEY `([^`]+)` (.*?),?$", line)
        if m:
            keys.append((m.group(1), f"KEY `{m.group(1)}` {m.group(2)}"))
    base, step = timeline(args)
    at = f"({base} + s.seq * {step})"
    hexed = lambda expr, width: f"LPAD(LOWER(HEX({expr})), {width}, '0')"  # noqa: E731
    t0 = time.monotonic()
    script = ["SET SESSION unique_checks=0, foreign_key_checks=0;",
              "CREATE TEMPORARY TABLE gen_users (k INT NOT NULL PRIMARY KEY, id CHAR(36) CHARACTER SET ascii "
              "COLLATE ascii_bin NOT NULL);",
              "INSERT INTO gen_users (k, id) SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, id FROM users;"]
    if keys:
        script.append("ALTER TABLE activity " + ", ".join(f"DROP KEY `{n}`" for n, _ in keys) + ";")
    chunk = 1_000_000
    for lo in range(args.first, args.last + 1, chunk):
        hi = min(lo + chunk - 1, args.last)
        script.append(
            "INSERT INTO activity (id, at, actor_id, action, target_type, target_id, ip, user_agent, request_id, "
            "data) SELECT CONCAT(" + ", '-', ".join([
                hexed(f"{at} DIV 65536", 8), hexed(f"{at} MOD 65536", 4),
                "CONCAT('7', " + hexed("s.seq MOD 4096", 3) + ")",
                "CONCAT('8', " + hexed("(s.seq DIV 4096) MOD 4096", 3) + ")", hexed("s.seq", 12)]) + "), "
            f"{at}, g.id, {action_case('s.seq')}, 'user', g.id, CONCAT('198.51.100.', s.seq MOD 250 + 1), "
            f"'Mozilla/5.0 (X11; Linux x86_64) bench', CONCAT('bench-', s.seq), '{{}}' "
            f"FROM seq_{lo}_to_{hi} s JOIN gen_users g ON g.k = s.seq MOD {users};")
    run("\n".join(script) + "\n", "inserting the events")
    t_rows = time.monotonic() - t0
    if keys:
        run("ALTER TABLE activity " + ", ".join(f"ADD {d}" for _, d in keys) + ";\n", "adding the keys back")
    total = int(run("SELECT COUNT(*) FROM activity;", "counting events").strip() or 0)
    print(f"[gen_activity] mariadb: rows {t_rows:.1f} s, keys rebuilt in {time.monotonic() - t0 - t_rows:.1f} s",
          file=sys.stderr)
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dst = ap.add_mutually_exclusive_group(required=True)
    dst.add_argument("--sqlite", metavar="PATH", help="SQLite database file (migrated)")
    dst.add_argument("--mysql-url", metavar="URL", help="mysql://USER:PASS@HOST:PORT/DB (migrated)")
    ap.add_argument("--first", type=int, default=1, help="number of the first event to write (default 1)")
    ap.add_argument("--last", type=int, required=True, help="number of the last event to write")
    ap.add_argument("--total", type=int, default=10_000_000, help="events the timeline is spread for")
    ap.add_argument("--days", type=int, default=300, help="the timeline starts this many days before --now")
    ap.add_argument("--now", type=int, default=0, help="'now' in ms since the epoch (default: the clock)")
    ap.add_argument("--client", default="", help="MariaDB: client binary (default mariadb, then mysql)")
    args = ap.parse_args()
    if args.first < 1 or args.last < args.first or args.last >= 16 ** 12:
        sys.exit("gen_activity: need 1 <= --first <= --last < 2^48")
    args.total = max(args.total, args.last)
    args.now = args.now or int(time.time() * 1000)
    t0 = time.monotonic()
    total = gen_sqlite(args) if args.sqlite else gen_mysql(args)
    secs = time.monotonic() - t0
    print(f"GEN_ACTIVITY backend={'sqlite' if args.sqlite else 'mariadb'} first={args.first} last={args.last} "
          f"events={args.last - args.first + 1} total_rows={total} seconds={secs:.1f}")


if __name__ == "__main__":
    main()
