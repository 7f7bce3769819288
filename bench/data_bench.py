#!/usr/bin/env python3
"""Data scenarios of scripts/bench.sh (issue 13). Python 3 standard library only.

  data_bench.py export --base URL --pid PID --email E --password PW [--sample 0.01]

Logs in as E, reads the server's VmRSS (/proc/PID/status), then downloads GET /api/v1/me/export
while a thread samples the server's VmRSS every --sample seconds, and parses the whole body as
JSON (it must be a JSON object with a `tasks` array) only after the download, so that this
process's own memory does not matter. Prints

  EXPORT seconds=.. bytes=.. tasks=.. rss_before_mb=.. rss_peak_mb=.. growth_mb=.. samples=..

seconds: from sending the request to the last byte. Never fails on timing; exit status 1 only
when the scenario could not run (login failed, the export was not a 200 JSON object), with the
reason on stderr.
"""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from notify_bench import API, Client, die  # noqa: E402


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid, every):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak, self.samples = 0, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kb(self.pid))
            self.samples += 1
            time.sleep(self.every)


def cmd_export(a):
    c = Client(a.base)
    c.login(a.email, a.password)
    c.conn.timeout = 600
    time.sleep(0.5)  # the login's hash memory is back with the allocator
    before = rss_kb(a.pid)
    sampler = Sampler(a.pid, a.sample)
    sampler.start()
    start = time.monotonic()
    c.conn.request("GET", API + "/me/export", headers={"Authorization": "Bearer " + c.token,
                                                       "Accept": "application/json"})
    resp = c.conn.getresponse()
    chunks = []
    while True:
        piece = resp.read(1 << 16)
        if not piece:
            break
        chunks.append(piece)
    seconds = time.monotonic() - start
    time.sleep(0.2)
    sampler.stop.set()
    sampler.join()
    body = b"".join(chunks)
    if resp.status != 200:
        die(f"GET /me/export: HTTP {resp.status} {body[:200]!r}")
    try:
        doc = json.loads(body)
    except ValueError as e:
        die(f"GET /me/export: not JSON ({e}); {len(body)} bytes, ends {body[-100:]!r}")
    if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
        die("GET /me/export: no tasks array")
    peak = max(sampler.peak, before)
    print(f"EXPORT seconds={seconds:.2f} bytes={len(body)} tasks={len(doc['tasks'])} "
          f"rss_before_mb={before / 1024:.1f} rss_peak_mb={peak / 1024:.1f} "
          f"growth_mb={(peak - before) / 1024:.1f} samples={sampler.samples}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--base", required=True)
    e.add_argument("--pid", type=int, required=True, help="the server's pid (VmRSS)")
    e.add_argument("--email", required=True)
    e.add_argument("--password", required=True)
    e.add_argument("--sample", type=float, default=0.01)
    a = ap.parse_args()
    cmd_export(a)


if __name__ == "__main__":
    main()
