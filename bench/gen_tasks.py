#!/usr/bin/env python3
"""Fill a migrated Ikigai database with users and tasks for `make bench` (python3 stdlib only).

    gen_tasks.py --sqlite PATH             [options]   # sqlite3 module, one transaction
    gen_tasks.py --mysql-url mysql://USER:PASS@HOST:PORT/DB [options]
                                                       # SQL piped into the `mariadb` client

Run it after `ikigai migrate` and before `ikigai serve`, on a database without
generated rows (usernames gen00001.. would collide). It writes:

  - --users (10000) users gen00001..: unique username/email, a fixed Argon2id hash
    that matches no known password (these users never log in), created over the
    year before --now;
  - --tasks (10000) tasks, each owned by a user drawn uniformly at random, created
    uniformly over that year; status todo 50% / in_progress 20% / done 30%
    (completed_at set), priority low 25% / normal 50% / high 25%, about half with a
    due_at (to the second, 1 hour to 60 days after creation), a third with notes,
    about 40% with 1..3 tags (task_tags rows with position 0..n-1);
  - --owner-tasks (0) more tasks of the same kind owned by --owner-id, an existing
    user (e.g. made by `ikigai user create`), mixed into the same stream.

For the notification bench: --password-hash gives every generated user a hash of a known
password (made by `ikigai user create` with cheap Argon2 settings, so thousands can log in
quickly), --users-recent dates the users in the last hour (a first sign-in of an account
younger than a day makes no "new sign-in" notice), and --remind-lead-minutes N fills
tasks.remind_at as the server would for open tasks whose reminder window opens more than two
hours after --now (nothing falls due during a bench run).

Ids are UUIDv7-shaped text: 48-bit millisecond prefix (the row's created_at), version 7,
variant 10, random bits and a per-run counter (so they are unique). Rows are written in
id order. The output is deterministic for a given --seed and --now.

SQLite: synchronous=OFF, journal_mode=OFF during the load (WAL is restored at the end),
the secondary indexes of tasks and task_tags are dropped first and rebuilt from their
own saved CREATE INDEX text afterwards (much faster than maintaining four random-order
indexes row by row). MariaDB: multi-row INSERTs of --batch rows, one transaction per
batch, with unique_checks=0 and foreign_key_checks=0; the password goes to the client
in MYSQL_PWD, not on its command line.

Prints progress to stderr and one summary line to stdout:
  GEN backend=sqlite users=10000 tasks=1000100 tags=... seconds=41.2 rows_per_s=...
"""

import argparse
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse

# `ikigai user create` with a random password that was thrown away: a real Argon2id hash
# (so the column looks like production) that verifies against no password anyone knows.
PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$JmmYzM6TAWWOvZZO7z5uRg$NmxLNsh7Sks6EHC7BZIKrSCe9JuWJV9pCFOhZWKd9PI"

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS

VERBS = ["Write", "Review", "Plan", "Call", "Fix", "Read", "Prepare", "Clean", "Buy", "Schedule",
         "Draft", "Send", "Update", "Organise", "Practise", "Research", "Book", "Finish", "Start", "Water"]
OBJECTS = ["the essay", "quarterly report", "the garden", "dentist appointment", "guitar scales",
           "monthly budget", "groceries", "team retro notes", "blog post", "tax return", "the bike",
           "conference talk", "inbox", "reading list", "meal plan", "Japanese lesson", "photo album",
           "job application", "the plants", "birthday gift", "portfolio site", "volunteer shift",
           "meditation log", "running route", "client proposal", "thank-you notes", "travel plans",
           "sourdough starter", "side project", "weekly review"]
NOTES = ["", "", "",  # most notes are empty
         "Keep it short.", "Ask Sam first.", "See the shared doc for details.",
         "Only the first half this week; the rest after the review.",
         "Bring the receipts and the old contract.", "Use the checklist from last time.",
         "Remember to block an hour in the calendar so it actually happens.",
         "It matters more than it looks: it feeds the ikigai statement."]
TAGS = ["work", "home", "health", "learning", "family", "money", "writing", "music", "errand",
        "urgent", "someday", "garden", "fitness", "reading", "travel", "friends", "side-project",
        "volunteering", "admin", "ideas"]


class Ids:
    """UUIDv7-shaped ids: ms prefix, random bits, a counter in the low 24 bits for uniqueness."""

    def __init__(self, rng):
        self.rng = rng
        self.n = 0

    def make(self, ms):
        self.n += 1
        r = self.rng.getrandbits(64)
        a = r & 0xFFF
        b = 0x8000 | ((r >> 12) & 0x3FFF)
        c = (((r >> 26) & 0xFFFFFF) << 24) | (self.n & 0xFFFFFF)
        return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7{a:03x}-{b:04x}-{c:012x}"


def make_users(args, rng, ids):
    if args.users_recent:
        # Within the last hour: an account younger than a day signing in for the first time is
        # not told about a "new device", so bulk logins (notification bench) make no mail.
        start, span = args.now - 3_600_000, 3_600_000 - 60_000
    else:
        start, span = args.now - YEAR_MS, YEAR_MS - DAY_MS
    created = sorted(start + rng.randrange(span) for _ in range(args.users))
    out = []
    width = max(5, len(str(args.users)))
    for i, ms in enumerate(created, 1):
        name = f"{args.prefix}{i:0{width}d}"
        email = f"{name}@example.com"
        # id, username, username_lower, email, email_lower, display_name, password_hash,
        # role, email_verified, created_at, updated_at
        out.append((ids.make(ms), name, name, email, email, f"Gen User {i}", args.password_hash,
                    "user", 1 if rng.random() < 0.8 else 0, ms, ms))
    return out


def task_stream(args, rng, ids, user_ids):
    """Yields (task_row, tag_rows) in created_at (= id) order."""
    total = args.tasks + args.owner_tasks
    start = args.now - YEAR_MS
    span = YEAR_MS - 3_600_000  # nothing created in the last hour
    created = sorted(start + rng.randrange(span) for _ in range(total))
    owner_at = set(rng.sample(range(total), args.owner_tasks)) if args.owner_tasks else set()
    rnd = rng.random
    randrange = rng.randrange
    choice = rng.choice
    n_users = len(user_ids)
    lead = None if args.remind_lead_minutes is None else args.remind_lead_minutes * 60_000
    for i, ms in enumerate(created):
        tid = ids.make(ms)
        uid = args.owner_id if i in owner_at else user_ids[randrange(n_users)]
        title = f"{choice(VERBS)} {choice(OBJECTS)}"
        notes = choice(NOTES)
        s = rnd()
        status = "todo" if s < 0.5 else ("in_progress" if s < 0.7 else "done")
        p = rnd()
        priority = 0 if p < 0.25 else (1 if p < 0.75 else 2)
        due = (ms + 3_600_000 + randrange(60 * DAY_MS)) // 1000 * 1000 if rnd() < 0.5 else None
        age = args.now - ms
        if status != "todo" or rnd() < 0.3:
            updated = ms + randrange(max(1, min(age, 30 * DAY_MS)))
            version = 2 + randrange(3)
        else:
            updated = ms
            version = 1
        completed = updated if status == "done" else None
        tags = ()
        if rnd() < 0.4:
            tags = rng.sample(TAGS, 1 + randrange(3))
        row = (tid, uid, title, notes, status, priority, due, ms, updated, completed, version)
        if lead is not None:
            # What the server keeps: remind_at = due_at - lead while a reminder is owed. Only
            # open tasks whose window opens more than two hours after --now get one, so nothing
            # falls due while the bench runs (the reminder pass then has nothing to do, which
            # is what it times); the few in between are left NULL, as if already reminded.
            owed = status != "done" and due is not None and due - lead > args.now + 2 * 3_600_000
            row += (due - lead if owed else None,)
        yield (row, [(tid, uid, tag, pos) for pos, tag in enumerate(tags)])


USER_COLS = ("id, username, username_lower, email, email_lower, display_name, password_hash, "
             "role, email_verified, created_at, updated_at")
TASK_COLS = "id, user_id, title, notes, status, priority, due_at, created_at, updated_at, completed_at, version"


def task_cols(args):
    return TASK_COLS + (", remind_at" if args.remind_lead_minutes is not None else "")


def task_marks(args):
    return ", ".join("?" * (12 if args.remind_lead_minutes is not None else 11))
TAG_COLS = "task_id, user_id, tag, position"


def progress(done, total, t0, what):
    el = time.monotonic() - t0
    print(f"[gen_tasks] {what}: {done:,}/{total:,} ({el:.1f} s)", file=sys.stderr, flush=True)


# --- SQLite -----------------------------------------------------------------------
def sqlite_bulk_mode(cur):
    """Journal and fsync off and a large cache for a bulk load; returns the journal mode to put
    back afterwards (PRAGMA journal_mode=<it>)."""
    cur.execute("PRAGMA busy_timeout=10000")
    mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
    cur.execute("PRAGMA journal_mode=OFF")
    cur.execute("PRAGMA synchronous=OFF")
    cur.execute("PRAGMA cache_size=-262144")  # 256 MiB
    cur.execute("PRAGMA temp_store=MEMORY")
    return mode


def gen_sqlite(args, rng, ids):
    if not os.path.exists(args.sqlite):
        sys.exit(f"gen_tasks: {args.sqlite} does not exist (run `ikigai migrate` first)")
    con = sqlite3.connect(args.sqlite, isolation_level=None)
    cur = con.cursor()
    if not cur.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tasks'").fetchone():
        sys.exit("gen_tasks: no tasks table (run `ikigai migrate` first)")
    mode = sqlite_bulk_mode(cur)
    if args.owner_id and not cur.execute("SELECT 1 FROM users WHERE id = ?", (args.owner_id,)).fetchone():
        sys.exit(f"gen_tasks: --owner-id {args.owner_id}: no such user")

    users = make_users(args, rng, ids)
    user_ids = [u[0] for u in users]
    total = args.tasks + args.owner_tasks
    n_tags = 0
    t0 = time.monotonic()
    cur.execute("BEGIN")
    indexes = []
    if not args.keep_indexes:
        indexes = cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name IN ('tasks', 'task_tags') "
            "AND sql IS NOT NULL").fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    cur.executemany(f"INSERT INTO users ({USER_COLS}) VALUES ({', '.join('?' * 11)})", users)
    stream = task_stream(args, rng, ids, user_ids)
    done = 0
    chunk = 100_000
    while done < total:
        tasks, tags = [], []
        for row, tag_rows in stream:
            tasks.append(row)
            tags.extend(tag_rows)
            if len(tasks) == chunk:
                break
        cur.executemany(f"INSERT INTO tasks ({task_cols(args)}) VALUES ({task_marks(args)})", tasks)
        cur.executemany(f"INSERT INTO task_tags ({TAG_COLS}) VALUES (?, ?, ?, ?)", tags)
        done += len(tasks)
        n_tags += len(tags)
        if total > chunk:
            progress(done, total, t0, "sqlite tasks")
    t_rows = time.monotonic() - t0
    for name, sql in indexes:
        cur.execute(sql)
    cur.execute("COMMIT")
    t_idx = time.monotonic() - t0 - t_rows
    cur.execute(f"PRAGMA journal_mode={mode}")
    con.close()
    print(f"[gen_tasks] sqlite: rows {t_rows:.1f} s, {len(indexes)} indexes rebuilt in {t_idx:.1f} s",
          file=sys.stderr)
    return len(users), total, n_tags


# --- MariaDB ------------------------------------------------------------------------
def sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


def sql_val(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return sql_str(v)


def sql_tuple(row):
    return "(" + ",".join(sql_val(v) for v in row) + ")"


def mysql_client(prog, mysql_url, client="", extra=()):
    """The `mariadb` (or `mysql`) command line for a mysql://USER:PASS@HOST:PORT/DB URL and its
    environment: the password goes in MYSQL_PWD, not on the command line. Exits on a bad URL."""
    u = urllib.parse.urlsplit(mysql_url)
    if u.scheme not in ("mysql", "mariadb") or not u.hostname or not u.path.strip("/"):
        sys.exit(f"{prog}: --mysql-url must look like mysql://USER:PASS@HOST:PORT/DB")
    client = client or next((c for c in ("mariadb", "mysql") if any(
        os.access(os.path.join(d, c), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep))), None)
    if not client:
        sys.exit(f"{prog}: no mariadb/mysql client on PATH")
    cmd = [client, "--no-defaults", "-h", u.hostname, "-P", str(u.port or 3306),
           "-u", urllib.parse.unquote(u.username or ""), "--default-character-set=utf8mb4", *extra,
           "--batch", urllib.parse.unquote(u.path.strip("/"))]
    return cmd, dict(os.environ, MYSQL_PWD=urllib.parse.unquote(u.password or ""))


def gen_mysql(args, rng, ids):
    cmd, env = mysql_client("gen_tasks", args.mysql_url, args.client, ("--max-allowed-packet=64M",))

    if args.owner_id:
        check = subprocess.run(cmd + ["-N", "-e", "SELECT COUNT(*) FROM users WHERE id = " + sql_str(args.owner_id)],
                               env=env, capture_output=True, text=True)
        if check.returncode != 0:
            sys.exit(f"gen_tasks: mariadb client failed: {check.stderr.strip()}")
        if check.stdout.strip() != "1":
            sys.exit(f"gen_tasks: --owner-id {args.owner_id}: no such user")

    # Secondary keys and foreign keys of tasks and task_tags, from their own definitions.
    drops, adds = [], []
    if not args.keep_indexes:
        for table in ("tasks", "task_tags"):
            show = subprocess.run(cmd + ["-N", "--raw", "-e", f"SHOW CREATE TABLE `{table}`"],
                                  env=env, capture_output=True, text=True)
            if show.returncode != 0:
                sys.exit(f"gen_tasks: SHOW CREATE TABLE {table} failed: {show.stderr.strip()}")
            keys, fks = [], []
            for line in show.stdout.splitlines():
                line = line.strip().rstrip(",")
                m = re.match(r"(?:UNIQUE )?KEY `([^`]+)` ", line)
                if m:
                    keys.append((m.group(1), line))
                m = re.match(r"CONSTRAINT `([^`]+)` FOREIGN KEY ", line)
                if m:
                    fks.append((m.group(1), line))
            if fks:
                drops.append(f"ALTER TABLE `{table}` " + ", ".join(f"DROP FOREIGN KEY `{n}`" for n, _ in fks) + ";")
            if keys:
                drops.append(f"ALTER TABLE `{table}` " + ", ".join(f"DROP KEY `{n}`" for n, _ in keys) + ";")
                adds.append(f"ALTER TABLE `{table}` " + ", ".join(f"ADD {d}" for _, d in keys) + ";")
            if fks:
                adds.append(f"ALTER TABLE `{table}` " + ", ".join(f"ADD {d}" for _, d in fks) + ";")

    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env, text=True, encoding="utf-8")
    w = proc.stdin.write
    t0 = time.monotonic()
    try:
        w("SET SESSION unique_checks=0, foreign_key_checks=0, autocommit=0;\n")
        for stmt in drops:
            w(stmt + "\n")
        users = make_users(args, rng, ids)
        user_ids = [x[0] for x in users]
        for i in range(0, len(users), args.batch):
            w("START TRANSACTION;\nINSERT INTO users (" + USER_COLS + ") VALUES\n")
            w(",\n".join(sql_tuple(r) for r in users[i:i + args.batch]))
            w(";\nCOMMIT;\n")
        total = args.tasks + args.owner_tasks
        n_tags = 0
        done = 0
        stream = task_stream(args, rng, ids, user_ids)
        step = max(total // 10, args.batch)
        next_report = step
        while done < total:
            tasks, tags = [], []
            for row, tag_rows in stream:
                tasks.append(sql_tuple(row))
                tags.extend(sql_tuple(t) for t in tag_rows)
                if len(tasks) == args.batch:
                    break
            w("START TRANSACTION;\nINSERT INTO tasks (" + task_cols(args) + ") VALUES\n")
            w(",\n".join(tasks))
            w(";\n")
            if tags:
                w("INSERT INTO task_tags (" + TAG_COLS + ") VALUES\n")
                w(",\n".join(tags))
                w(";\n")
            w("COMMIT;\n")
            done += len(tasks)
            n_tags += len(tags)
            if done >= next_report and total >= 100_000:
                progress(done, total, t0, "mariadb tasks (sent)")
                next_report += step
        proc.stdin.close()
    except BrokenPipeError:
        pass
    rc = proc.wait()
    if rc != 0:
        sys.exit(f"gen_tasks: mariadb client exited with status {rc}")
    t_rows = time.monotonic() - t0
    if adds:
        # Sorted index builds after the load; the foreign keys come back unchecked.
        script = "SET SESSION foreign_key_checks=0;\n" + "\n".join(adds) + "\n"
        done = subprocess.run(cmd, input=script, env=env, text=True)
        if done.returncode != 0:
            sys.exit(f"gen_tasks: rebuilding the keys failed (status {done.returncode})")
        print(f"[gen_tasks] mariadb: rows {t_rows:.1f} s, keys dropped before and rebuilt after "
              f"the load in {time.monotonic() - t0 - t_rows:.1f} s", file=sys.stderr)
    return len(users), total, n_tags


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dst = ap.add_mutually_exclusive_group(required=True)
    dst.add_argument("--sqlite", metavar="PATH", help="SQLite database file (migrated)")
    dst.add_argument("--mysql-url", metavar="URL", help="mysql://USER:PASS@HOST:PORT/DB (migrated)")
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--owner-id", default="", help="an existing user who gets --owner-tasks more tasks")
    ap.add_argument("--owner-tasks", type=int, default=0)
    ap.add_argument("--prefix", default="gen", help="username prefix (default gen)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--now", type=int, default=0, help="'now' in ms since the epoch (default: the clock)")
    ap.add_argument("--batch", type=int, default=2000, help="MariaDB: rows per INSERT/transaction")
    ap.add_argument("--client", default="", help="MariaDB: client binary (default mariadb, then mysql)")
    ap.add_argument("--keep-indexes", action="store_true", help="SQLite: keep the indexes during the load")
    ap.add_argument("--password-hash", default=PASSWORD_HASH,
                    help="password_hash of every generated user (default: one that matches no known password)")
    ap.add_argument("--users-recent", action="store_true",
                    help="users created in the hour before --now (default: over the year before it)")
    ap.add_argument("--remind-lead-minutes", type=int, default=None, metavar="N",
                    help="fill tasks.remind_at (schema 3+) as the server would with an N-minute lead, for "
                         "open tasks whose reminder window opens over 2 h after --now; NULL for the rest")
    args = ap.parse_args()
    if args.users < 1 or args.tasks < 0 or args.owner_tasks < 0 or args.batch < 1:
        ap.error("--users must be >= 1; --tasks, --owner-tasks >= 0; --batch >= 1")
    if args.owner_tasks and not args.owner_id:
        ap.error("--owner-tasks needs --owner-id")
    if args.users + args.tasks + args.owner_tasks >= 1 << 24:
        ap.error("at most 16.7 million rows per run (the id counter has 24 bits)")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,20}", args.prefix):
        ap.error("--prefix: a letter, then up to 20 letters, digits or _")
    args.now = args.now or int(time.time() * 1000)
    rng = random.Random(args.seed)
    ids = Ids(rng)
    t0 = time.monotonic()
    if args.sqlite:
        backend = "sqlite"
        users, tasks, tags = gen_sqlite(args, rng, ids)
    else:
        backend = "mysql"
        users, tasks, tags = gen_mysql(args, rng, ids)
    secs = time.monotonic() - t0
    rows = users + tasks + tags
    print(f"GEN backend={backend} users={users} tasks={tasks} tags={tags} seconds={secs:.1f} "
          f"rows_per_s={rows / secs if secs > 0 else 0:.0f}", flush=True)


if __name__ == "__main__":
    main()
