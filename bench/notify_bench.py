#!/usr/bin/env python3
"""Notification scenarios of scripts/bench.sh (issue 12). Python 3 standard library only.

  notify_bench.py reminders --base URL [--skip 2] [--samples 5]
      Reads /metrics until the "reminders" job has run --skip times more, then records
      ikigai_job_last_duration_seconds{job="reminders"} after each of --samples further runs.
      REMINDERS runs=.. samples=.. max_ms=.. median_ms=.. min_ms=.. first_ms=.. task_due=..
      (task_due: reminders this server made so far, from ikigai_notifications_created_total)

  notify_bench.py streams --base URL --prefix gen --width 6 --users N --per-user K --password PW
      Logs in the generated users PREFIX000001.. (email PREFIX000001@example.com), opens K
      `GET /api/v1/notifications/stream` per user with its bearer token, checks each answers 200
      text/event-stream with its first `retry:` bytes, prints
      READY opened=.. failed=.. login_s=.. open_s=..
      and holds them (reading whatever comes) until SIGTERM or SIGINT, then prints
      STREAMS opened=.. failed=.. still_open=.. closed_by_server=.. events=..

  notify_bench.py latency --a URL --b URL --admin-email E --user-email U --password PW
                          [--count 500] [--gap 0.03]
      Opens a stream as U on instance B, then sends --count announcements one at a time
      through instance A (POST /api/v1/admin/notifications, user_ids [U]; a unique title each),
      --gap seconds apart, and times each from A's 202 (response read) to the event with that
      title arriving on B's stream.
      LATENCY sent=.. received=.. missing=.. p50_ms=.. p99_ms=.. max_ms=.. min_ms=.. post_p50_ms=..

  notify_bench.py broadcast --base URL --admin-email E --password PW (--sqlite PATH | --mysql-url URL)
      POSTs one announcement to every user and times its 202, then counts the inbox rows made
      since (SELECT COUNT(*) FROM notifications WHERE created_at >= the send time; the SQLite
      file opened read-only, MariaDB through the `mariadb` client) every --poll seconds until
      they reach the recipients.
      BROADCAST recipients=.. accept_ms=.. complete_ms=.. rows=.. polls=..

Never fails on timing: the lines carry what was measured; exit status 1 only when the
scenario could not run (login failed, a stream did not open, ...), with the reason on stderr.
"""
import argparse
import asyncio
import http.client
import json
import os
import re
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

API = "/api/v1"


def die(msg):
    print(f"notify_bench: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def hostport(base):
    u = urllib.parse.urlsplit(base)
    return u.hostname, u.port or 80


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, -(-len(v) * p // 100) - 1))
    return v[int(k)]


class Client:
    """One keep-alive HTTP/1.1 connection (http.client), JSON in and out."""

    def __init__(self, base, token=""):
        self.host, self.port = hostport(base)
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, method, path, body=None):
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                if attempt:
                    raise
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return resp.status, doc, raw

    def login(self, email, password):
        status, doc, raw = self.call("POST", API + "/auth/login", {"email": email, "password": password})
        if status != 200 or not doc or "access_token" not in doc:
            die(f"login {email} on {self.host}:{self.port}: HTTP {status} {raw[:200]!r}")
        self.token = doc["access_token"]
        return self.token


# --- reminders ------------------------------------------------------------------------------
def job_metrics(client, job):
    status, _, raw = client.call("GET", "/metrics")
    if status != 200:
        die(f"GET /metrics: HTTP {status}")
    text = raw.decode(errors="replace")
    runs = re.search(r'^ikigai_job_runs_total\{job="%s"\} (\d+)' % job, text, re.M)
    dur = re.search(r'^ikigai_job_last_duration_seconds\{job="%s"\} ([0-9.eE+-]+)' % job, text, re.M)
    if not runs or not dur:
        die(f'/metrics has no ikigai_job_runs_total / ikigai_job_last_duration_seconds for job="{job}"')
    return int(runs.group(1)), float(dur.group(1))


def cmd_reminders(a):
    c = Client(a.base)
    deadline = time.monotonic() + a.timeout
    runs0, first = job_metrics(c, "reminders")
    seen = runs0
    samples = []
    while len(samples) < a.samples and time.monotonic() < deadline:
        time.sleep(0.1)
        runs, dur = job_metrics(c, "reminders")
        if runs == seen:
            continue
        seen = runs
        if runs - runs0 > a.skip:
            samples.append(dur * 1000)
    if not samples:
        die(f"the reminders job did not run within {a.timeout} s")
    # "Nothing due" is checked, not assumed: reminders sent so far (0 expected)
    _, _, raw = c.call("GET", "/metrics")
    sent = re.search(r'^ikigai_notifications_created_total\{kind="task_due"\} (\d+)', raw.decode(errors="replace"), re.M)
    print(f"REMINDERS runs={seen} samples={len(samples)} max_ms={max(samples):.2f} "
          f"median_ms={statistics.median(samples):.2f} min_ms={min(samples):.2f} first_ms={first * 1000:.2f} "
          f"task_due={sent.group(1) if sent else 'na'}", flush=True)


# --- streams --------------------------------------------------------------------------------
async def simple_request(host, port, method, path, body=None, token=""):
    """One request on its own connection (Connection: close); returns (status, body bytes)."""
    r, w = await asyncio.open_connection(host, port)
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    w.write(head.encode() + b"\r\n" + data)
    raw = await r.read()
    w.close()
    hdr, _, rest = raw.partition(b"\r\n\r\n")
    status = int(hdr.split(b" ", 2)[1])
    if re.search(rb"(?im)^transfer-encoding:\s*chunked", hdr):
        out, dc = b"", Dechunker()
        for piece in dc.feed(rest):
            out += piece
        rest = out
    return status, rest


class Dechunker:
    """Incremental decoder of a chunked body: feed() bytes, get the chunks' data back."""

    def __init__(self):
        self.buf = b""
        self.ended = False

    def feed(self, data):
        self.buf += data
        out = []
        while not self.ended:
            eol = self.buf.find(b"\r\n")
            if eol < 0:
                break
            size = int(self.buf[:eol].split(b";")[0], 16)
            if size == 0:
                self.ended = True
                break
            if len(self.buf) < eol + 2 + size + 2:
                break
            out.append(self.buf[eol + 2:eol + 2 + size])
            self.buf = self.buf[eol + 2 + size + 2:]
        return out


class StreamStats:
    def __init__(self):
        self.opened = 0
        self.failed = 0
        self.closed = 0
        self.events = 0
        self.errors = []


async def hold_stream(host, port, token, stats, sem, ready):
    try:
        async with sem:
            r, w = await asyncio.open_connection(host, port)
            w.write((f"GET {API}/notifications/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode())
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
            status = int(head.split(b" ", 2)[1])
            if status != 200 or b"text/event-stream" not in head.lower():
                raise RuntimeError(f"HTTP {status}")
            body = b""
            while b"retry:" not in body:
                piece = await asyncio.wait_for(r.read(4096), 30)
                if not piece:
                    raise RuntimeError("closed before its first bytes")
                body += piece
            stats.opened += 1
    except Exception as e:  # noqa: BLE001 - counted and reported, never fatal per stream
        stats.failed += 1
        if len(stats.errors) < 5:
            stats.errors.append(f"{type(e).__name__}: {e}")
        ready.release()
        return None
    ready.release()
    try:
        while True:
            piece = await r.read(65536)
            if not piece:
                stats.closed += 1
                break
            stats.events += piece.count(b"event: notification")
    except (ConnectionError, OSError):
        stats.closed += 1
    except asyncio.CancelledError:
        w.close()
        raise
    return None


async def streams_main(a):
    host, port = hostport(a.base)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    t0 = time.monotonic()
    tokens = []
    sem = asyncio.Semaphore(a.login_concurrency)

    async def login(i):
        email = f"{a.prefix}{i:0{a.width}d}@example.com"
        async with sem:
            for attempt in range(3):
                try:
                    status, body = await simple_request(host, port, "POST", API + "/auth/login",
                                                        {"email": email, "password": a.password})
                    break
                except OSError:
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.2)
        if status != 200:
            die(f"login {email}: HTTP {status} {body[:200]!r}")
        return json.loads(body)["access_token"]

    tokens = await asyncio.gather(*(login(i) for i in range(a.first, a.first + a.users)))
    t1 = time.monotonic()
    stats = StreamStats()
    open_sem = asyncio.Semaphore(a.open_concurrency)
    ready = asyncio.Semaphore(0)
    tasks = [asyncio.create_task(hold_stream(host, port, tok, stats, open_sem, ready))
             for tok in tokens for _ in range(a.per_user)]
    for _ in tasks:
        await ready.acquire()
    t2 = time.monotonic()
    print(f"READY opened={stats.opened} failed={stats.failed} login_s={t1 - t0:.1f} open_s={t2 - t1:.1f}"
          + (f" first_error={stats.errors[0]!r}" if stats.errors else ""), flush=True)
    await stop.wait()
    still = stats.opened - stats.closed
    print(f"STREAMS opened={stats.opened} failed={stats.failed} still_open={still} "
          f"closed_by_server={stats.closed} events={stats.events}", flush=True)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def cmd_streams(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.users * a.per_user + 256
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            die(f"open files hard limit {hard} < {want} needed (raise ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    asyncio.run(streams_main(a))


# --- latency --------------------------------------------------------------------------------
class StreamReader(threading.Thread):
    """Reads one event stream and records when each event's title first arrives."""

    def __init__(self, base, token):
        super().__init__(daemon=True)
        self.host, self.port = hostport(base)
        self.token = token
        self.arrivals = {}
        self.lock = threading.Lock()
        self.opened = threading.Event()
        self.error = None
        self.sock = None

    def run(self):
        import socket
        try:
            s = socket.create_connection((self.host, self.port), timeout=None)
            self.sock = s
            s.sendall((f"GET {API}/notifications/stream HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                       f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n").encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                piece = s.recv(65536)
                if not piece:
                    raise RuntimeError("closed before its headers")
                buf += piece
            head, _, rest = buf.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            chunked = re.search(rb"(?im)^transfer-encoding:\s*chunked", head) is not None
            dc = Dechunker()
            text = b""
            piece = rest
            while True:
                now = time.monotonic()
                text += b"".join(dc.feed(piece)) if chunked else piece
                if not self.opened.is_set() and b"retry:" in text:
                    self.opened.set()
                while b"\n\n" in text:
                    event, _, text = text.partition(b"\n\n")
                    for line in event.split(b"\n"):
                        if line.startswith(b"data:"):
                            title = json.loads(line[5:].strip()).get("title", "")
                            with self.lock:
                                self.arrivals.setdefault(title, now)
                piece = s.recv(65536)
                if not piece:
                    break
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.opened.set()


def cmd_latency(a):
    sys.setswitchinterval(0.0005)  # the reader thread stamps arrivals promptly
    admin = Client(a.a)
    admin.login(a.admin_email, a.password)
    user = Client(a.b)
    user.login(a.user_email, a.password)
    status, me, raw = user.call("GET", API + "/me")
    if status != 200:
        die(f"GET /me on B: HTTP {status} {raw[:200]!r}")
    reader = StreamReader(a.b, user.token)
    reader.start()
    reader.opened.wait(30)
    if reader.error or not reader.opened.is_set():
        die(f"stream on B: {reader.error or 'no first bytes in 30 s'}")
    run = os.urandom(4).hex()
    posted = {}
    post_ms = []
    for i in range(a.count):
        title = f"bench latency {run} #{i:04d}"
        t0 = time.monotonic()
        status, doc, raw = admin.call("POST", API + "/admin/notifications",
                                      {"title": title, "body": "Delivery latency probe.", "user_ids": [me["id"]]})
        t1 = time.monotonic()
        if status != 202:
            die(f"POST /admin/notifications on A: HTTP {status} {raw[:200]!r}")
        posted[title] = t1
        post_ms.append((t1 - t0) * 1000)
        time.sleep(a.gap)
    deadline = time.monotonic() + a.wait
    while time.monotonic() < deadline:
        with reader.lock:
            if all(t in reader.arrivals for t in posted):
                break
        time.sleep(0.05)
    with reader.lock:
        lat = [(reader.arrivals[t] - posted[t]) * 1000 for t in posted if t in reader.arrivals]
    missing = len(posted) - len(lat)
    if not lat:
        die(f"no event arrived on B within {a.wait} s of the last send" + (f" ({reader.error})" if reader.error else ""))
    print(f"LATENCY sent={len(posted)} received={len(lat)} missing={missing} "
          f"p50_ms={percentile(lat, 50):.1f} p99_ms={percentile(lat, 99):.1f} max_ms={max(lat):.1f} "
          f"min_ms={min(lat):.1f} post_p50_ms={statistics.median(post_ms):.2f}", flush=True)


# --- broadcast ------------------------------------------------------------------------------
class RowCounter:
    def __init__(self, a):
        self.sqlite = None
        self.cmd = None
        if a.sqlite:
            self.sqlite = sqlite3.connect(f"file:{a.sqlite}?mode=ro", uri=True, isolation_level=None)
            self.sqlite.execute("PRAGMA busy_timeout=5000")
        else:
            u = urllib.parse.urlsplit(a.mysql_url)
            self.cmd = [a.client, "--no-defaults", "-h", u.hostname, "-P", str(u.port or 3306),
                        "-u", urllib.parse.unquote(u.username or ""), "-N", "-B",
                        urllib.parse.unquote(u.path.strip("/"))]
            self.env = dict(os.environ, MYSQL_PWD=urllib.parse.unquote(u.password or ""))

    def count_since(self, ms):
        if self.sqlite:
            return self.sqlite.execute("SELECT COUNT(*) FROM notifications WHERE created_at >= ?",
                                       (ms,)).fetchone()[0]
        out = subprocess.run(self.cmd + ["-e", f"SELECT COUNT(*) FROM notifications WHERE created_at >= {int(ms)}"],
                             env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            die(f"counting rows: {out.stderr.strip()}")
        return int(out.stdout.strip())


def cmd_broadcast(a):
    counter = RowCounter(a)
    admin = Client(a.base)
    admin.login(a.admin_email, a.password)
    since = int(time.time() * 1000) - 1
    title = f"bench broadcast {os.urandom(4).hex()}"
    t0 = time.monotonic()
    status, doc, raw = admin.call("POST", API + "/admin/notifications",
                                  {"title": title, "body": "An announcement to every user, made by make bench."})
    t1 = time.monotonic()
    if status != 202 or not doc or "recipients" not in doc:
        die(f"POST /admin/notifications: HTTP {status} {raw[:200]!r}")
    recipients = int(doc["recipients"])
    rows, polls = 0, 0
    deadline = t0 + a.timeout
    done = None
    while time.monotonic() < deadline:
        rows = counter.count_since(since)
        polls += 1
        if rows >= recipients:
            done = time.monotonic()
            break
        time.sleep(a.poll)
    complete = f"{(done - t0) * 1000:.0f}" if done else "timeout"
    print(f"BROADCAST recipients={recipients} accept_ms={(t1 - t0) * 1000:.1f} complete_ms={complete} "
          f"rows={rows} polls={polls}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("reminders")
    p.add_argument("--base", required=True)
    p.add_argument("--skip", type=int, default=2, help="runs left out first (start-up, cold cache)")
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("streams")
    p.add_argument("--base", required=True)
    p.add_argument("--prefix", default="gen")
    p.add_argument("--width", type=int, required=True, help="digits of the generated usernames")
    p.add_argument("--first", type=int, default=1, help="number of the first user")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--per-user", type=int, default=5)
    p.add_argument("--password", required=True)
    p.add_argument("--login-concurrency", type=int, default=8)
    p.add_argument("--open-concurrency", type=int, default=64)
    p = sub.add_parser("latency")
    p.add_argument("--a", required=True, help="instance the notifications are created through")
    p.add_argument("--b", required=True, help="instance the stream is opened on")
    p.add_argument("--admin-email", required=True)
    p.add_argument("--user-email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--gap", type=float, default=0.03)
    p.add_argument("--wait", type=float, default=10, help="seconds to wait for stragglers after the last send")
    p = sub.add_parser("broadcast")
    p.add_argument("--base", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument("--password", required=True)
    dst = p.add_mutually_exclusive_group(required=True)
    dst.add_argument("--sqlite", metavar="PATH")
    dst.add_argument("--mysql-url", metavar="URL")
    p.add_argument("--client", default="mariadb")
    p.add_argument("--poll", type=float, default=0.05)
    p.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    {"reminders": cmd_reminders, "streams": cmd_streams, "latency": cmd_latency,
     "broadcast": cmd_broadcast}[a.cmd](a)


if __name__ == "__main__":
    main()
