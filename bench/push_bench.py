#!/usr/bin/env python3
"""Web Push throughput scenario of scripts/bench.sh (issue 14).

  push_bench.py run --base URL --pid PID --width W --users N --per-user K --password PW
                    --admin-email E --go-file F [--prefix gen] [--verify-every 10] [--timeout 600]

Starts a local push service in this process (HTTP/1.1 keep-alive on a free loopback port,
asyncio), gives the generated users PREFIX000001.. K push subscriptions each (POST
/api/v1/me/push-subscriptions with a P-256 key pair and auth secret made here, as a browser makes
them; their email for announcements switched off so that only pushes are measured), then prints

  READY subscriptions=.. setup_s=..

and waits for the file F.1 (F = --go-file) to appear. Then it sends one announcement to every
user of role `user` (POST /api/v1/admin/notifications) and waits until the push service has
received one push per subscription (or --timeout), printing

  PUSH pushes=.. expected=.. seconds=.. per_s=.. cpu_ms_per_push=.. server_cpu_pct=..
       accept_ms=.. first_ms=.. verified=.. bad=.. connections=.. sink_cpu_s=..

then waits for F.2 and does the same again (bench.sh runs wrk on GET /me meanwhile), printing the
same fields after PUSH_DURING.

seconds: from the announcement's 202 to the last push received; cpu_ms_per_push: the server's
user+system CPU time (/proc/PID/stat) over that window divided by the pushes. Every distinct VAPID
Authorization header is verified (ES256 signature against the served public key, aud, exp, sub) and
every --verify-every-th body decrypted (RFC 8291) and compared with the announcement, with the
test push service's own code (tests/support/push_sink.py, python3-cryptography), independent of
the server's. A push that fails either check is answered 400 and counted in bad=.

Never fails on timing; exit status 1 only when the scenario could not run, with the reason on
stderr.
"""
import argparse
import asyncio
import concurrent.futures
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
sys.path.insert(0, HERE)

import push_sink  # noqa: E402  (the test push service's VAPID check and RFC 8291 decryption)
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from notify_bench import API, Client, die  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Sink:
    """A push service: answers 201 to every valid push, counts and checks them."""

    def __init__(self, verify_every):
        self.verify_every = verify_every
        self.subs = {}          # id -> {"private", "auth"} as push_sink.decrypt wants them
        self.count = 0
        self.verified = 0
        self.bad = 0
        self.bad_reasons = []
        self.first = None
        self.last = None
        self.connections = 0
        self.expect_title = None
        self.vapid_ok = set()    # Authorization headers already verified
        self.done = threading.Event()
        self.expected = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=256))
        self.port = server.sockets[0].getsockname()[1]
        push_sink.state["origin"] = f"http://127.0.0.1:{self.port}"
        self.ready.set()
        self.loop.run_forever()

    async def _serve(self, reader, writer):
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self._push(path, headers, body)
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _fail(self, why):
        self.bad += 1
        if len(self.bad_reasons) < 5:
            self.bad_reasons.append(why)
        return 400

    def _push(self, path, headers, body):
        now = time.monotonic()
        if not path.startswith("/push/") or path[6:] not in self.subs:
            return 404
        self.first = self.first or now
        self.last = now
        self.count += 1
        if self.count >= self.expected > 0:
            self.done.set()
        auth = headers.get("authorization", "")
        if auth not in self.vapid_ok:
            ok, error, _ = push_sink.check_vapid(auth)
            if not ok:
                return self._fail("VAPID: " + error)
            self.vapid_ok.add(auth)
        if headers.get("content-encoding") != "aes128gcm":
            return self._fail("Content-Encoding " + headers.get("content-encoding", "(none)"))
        if self.count % self.verify_every == 0:
            plaintext, error = push_sink.decrypt(body, self.subs[path[6:]])
            if plaintext is None:
                return self._fail("decrypt: " + error)
            doc = json.loads(plaintext)
            if doc.get("kind") != "announcement" or doc.get("title") != self.expect_title:
                return self._fail("payload: " + plaintext[:100])
            self.verified += 1
        return 201


def cmd_run(a):
    sink = Sink(a.verify_every)
    origin = push_sink.state["origin"]
    pub = Client(a.base)
    status, doc, raw = pub.call("GET", API + "/push/public-key")
    if status != 200 or not doc or "public_key" not in doc:
        die(f"GET /push/public-key: HTTP {status} {raw[:200]!r}")
    push_sink.state["vapid"] = push_sink.unb64url(doc["public_key"])

    def subscribe(u):  # user u (1-based) gets subscriptions (u-1)*K+1 .. u*K
        c = Client(a.base)
        c.login(f"{a.prefix}{u:0{a.width}d}@example.com", a.password)
        status, _, raw = c.call("PATCH", API + "/me/notification-preferences", {"email": {"announcement": False}})
        if status != 200:
            die(f"PATCH notification-preferences: HTTP {status} {raw[:200]!r}")
        for k in range((u - 1) * a.per_user + 1, u * a.per_user + 1):
            private = ec.generate_private_key(ec.SECP256R1())
            secret = os.urandom(16)
            sink.subs[str(k)] = {"private": private, "auth": secret}
            status, _, raw = c.call("POST", API + "/me/push-subscriptions", {
                "endpoint": f"{origin}/push/{k}", "expirationTime": None,
                "keys": {"p256dh": push_sink.b64url(push_sink.point(private.public_key())),
                         "auth": push_sink.b64url(secret)}})
            if status != 201:
                die(f"POST /me/push-subscriptions: HTTP {status} {raw[:200]!r}")
        c.conn.close()

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(subscribe, range(1, a.users + 1)))
    n = a.users * a.per_user
    print(f"READY subscriptions={n} setup_s={time.monotonic() - t0:.1f}", flush=True)

    admin = Client(a.base)
    admin.login(a.admin_email, a.password)
    # Round 1 (PUSH): the pushes alone, so the server's CPU time is theirs. Round 2 (PUSH_DURING):
    # the same again while bench.sh runs wrk on GET /me.
    for tag, go in (("PUSH", a.go_file + ".1"), ("PUSH_DURING", a.go_file + ".2")):
        while not os.path.exists(go):
            time.sleep(0.05)
        announce(a, sink, admin, tag, n)


def announce(a, sink, admin, tag, n):
    sink.expect_title = f"Push bench {tag} {os.getpid()} {time.time():.0f}"
    sink.count, sink.verified, sink.bad, sink.first, sink.last = 0, 0, 0, None, None
    sink.done.clear()
    sink.expected = n
    cpu0 = cpu_seconds(a.pid)
    sink_cpu0 = time.process_time()
    start = time.monotonic()
    status, doc, raw = admin.call("POST", API + "/admin/notifications",
                                  {"title": sink.expect_title, "body": "A push to every subscription, made by make bench.",
                                   "role": "user"})
    accepted = time.monotonic()
    if status != 202:
        die(f"POST /admin/notifications: HTTP {status} {raw[:200]!r}")
    sink.done.wait(a.timeout)
    end = sink.last or time.monotonic()
    cpu = cpu_seconds(a.pid) - cpu0
    seconds = max(end - start, 1e-9)
    pushes = sink.count
    print(f"{tag} pushes={pushes} expected={n} seconds={seconds:.2f} per_s={pushes / seconds:.0f} "
          f"cpu_ms_per_push={(cpu * 1000 / pushes) if pushes else 0:.3f} "
          f"server_cpu_pct={cpu * 100 / seconds:.0f} accept_ms={(accepted - start) * 1000:.1f} "
          f"first_ms={((sink.first or end) - start) * 1000:.0f} verified={sink.verified} bad={sink.bad} "
          f"connections={sink.connections} sink_cpu_s={time.process_time() - sink_cpu0:.1f}", flush=True)
    if sink.bad_reasons:
        print("push_bench: rejected pushes: " + "; ".join(sink.bad_reasons), file=sys.stderr, flush=True)
    if pushes < n:
        print(f"push_bench: only {pushes} of {n} pushes arrived within {a.timeout} s", file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--base", required=True)
    r.add_argument("--pid", type=int, required=True, help="the server's pid (CPU time)")
    r.add_argument("--prefix", default="gen")
    r.add_argument("--width", type=int, default=5)
    r.add_argument("--users", type=int, required=True)
    r.add_argument("--per-user", type=int, default=20)
    r.add_argument("--password", required=True)
    r.add_argument("--admin-email", required=True)
    r.add_argument("--go-file", required=True)
    r.add_argument("--verify-every", type=int, default=10)
    r.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    cmd_run(a)


if __name__ == "__main__":
    main()
