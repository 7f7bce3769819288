#!/usr/bin/env python3
"""Body flood for scripts/bench.sh (issue 11, item 1): CONNS connections each POST a BYTES body
with its Content-Length declared and the bytes really sent, unauthenticated, to PATH; when a
connection's round ends (answer, close or reset) it waits PAUSE seconds and starts another, until
DURATION seconds have passed. Each connection sends its body in PIECE-byte pieces at most every
INTERVAL seconds (64 KiB / 5 ms: 12.8 MB/s per connection, far more than a server reading 200
bodies at once takes), so that against a server that refuses at once the flood costs this client
little CPU and the read rate measures the server. Meanwhile it samples VmRSS of --pid every 50 ms (and for --settle
seconds after the flood, to see what the server keeps).

Prints one line:
  FLOOD conns=.. seconds=.. rounds=.. bodies_sent=.. answered=.. status_413=.. other_status=..
        closed_early=.. unanswered=.. errors=.. sent_mb=.. rss_before_mb=.. peak_rss_mb=.. rss_after_mb=..
Never fails on timing; exits 1 only on bad arguments or when no connection could be made.
Standard library only (selectors, one thread).
"""
import argparse
import errno
import heapq
import os
import selectors
import socket
import sys
import time


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class Conn:
    __slots__ = ("sock", "head", "sent", "answer", "started")

    def __init__(self, sock, head):
        self.sock = sock
        self.head = head
        self.sent = 0  # bytes of head + body sent
        self.answer = b""
        self.started = time.monotonic()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/api/v1/auth/register")
    p.add_argument("--conns", type=int, default=200)
    p.add_argument("--bytes", type=int, default=4 * 1024 * 1024)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--pause", type=float, default=0.5, help="seconds between a connection's rounds")
    p.add_argument("--piece", type=int, default=64 * 1024, help="body bytes per send")
    p.add_argument("--interval", type=float, default=0.005, help="seconds between a connection's sends")
    p.add_argument("--pid", type=int, default=0, help="server pid whose VmRSS is sampled")
    p.add_argument("--settle", type=float, default=2.0, help="seconds of sampling after the flood")
    a = p.parse_args()

    body_piece = b"x" * a.piece
    total = a.bytes
    head = (f"POST {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {total}\r\nUser-Agent: ikigai-body-flood\r\n\r\n").encode()

    sel = selectors.DefaultSelector()
    stats = dict(rounds=0, bodies_sent=0, answered=0, status_413=0, other_status=0,
                 closed_early=0, unanswered=0, errors=0, sent=0)
    rss_before = rss_mb(a.pid) if a.pid else None
    peak = rss_before or 0.0
    pending_start = []  # (time, ) connections to (re)open
    start = time.monotonic()
    end = start + a.duration
    for _ in range(a.conns):
        pending_start.append(start)
    connected_any = False

    def open_conn():
        nonlocal connected_any
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        except OSError:
            stats["errors"] += 1
            s.close()
            pending_start.append(time.monotonic() + a.pause)
            return
        c = Conn(s, head)
        stats["rounds"] += 1
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    def finish(c, reason):
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        if c.answer:
            stats["answered"] += 1
            line = c.answer.split(b"\r\n", 1)[0]
            parts = line.split(b" ")
            if len(parts) >= 2 and parts[1] == b"413":
                stats["status_413"] += 1
            else:
                stats["other_status"] += 1
        elif reason == "error":
            stats["errors"] += 1
        elif reason == "timeout":
            stats["unanswered"] += 1
        if c.sent < len(c.head) + total:
            stats["closed_early"] += 1 if not c.answer else 0
        pending_start.append(time.monotonic() + a.pause)

    rearm = []  # heap of (time, seq, conn): connections waiting to send their next piece
    seq = 0
    last_sample = 0.0
    while True:
        now = time.monotonic()
        if now >= end and not sel.get_map():
            break
        if now >= end + 5:  # give the last rounds 5 s, then stop whatever still runs
            for key in list(sel.get_map().values()):
                finish(key.data, "timeout")
            break
        while rearm and rearm[0][0] <= now:
            _, _, c = heapq.heappop(rearm)
            if c.sock.fileno() >= 0 and c.sent < len(c.head) + total:
                try:
                    sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
                except (KeyError, ValueError):
                    pass
        if now < end:
            due = [t for t in pending_start if t <= now]
            pending_start[:] = [t for t in pending_start if t > now]
            for _ in due:
                open_conn()
        if a.pid and now - last_sample >= 0.05:
            last_sample = now
            r = rss_mb(a.pid)
            if r is not None:
                peak = max(peak, r)
        if not sel.get_map():
            time.sleep(0.01)
            continue
        for key, mask in sel.select(timeout=0.002):
            c = key.data
            connected_any = True
            if mask & selectors.EVENT_READ:
                try:
                    data = c.sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    finish(c, "reset")
                    continue
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                        continue
                    finish(c, "error")
                    continue
                if not data:
                    finish(c, "closed")
                    continue
                c.answer += data
                # One answer is all we want; a server that keeps reading the body is left to do so.
                if b"\r\n\r\n" in c.answer and c.sent >= len(c.head) + total:
                    finish(c, "answered")
                    continue
            if mask & selectors.EVENT_WRITE:
                want = len(c.head) + total
                if c.sent >= want:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                try:
                    if c.sent < len(c.head):
                        n = c.sock.send(c.head[c.sent:])
                    else:
                        left = want - c.sent
                        n = c.sock.send(body_piece[:min(left, len(body_piece))])
                except (BlockingIOError, InterruptedError):
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    finish(c, "reset")
                    continue
                except OSError:
                    finish(c, "error")
                    continue
                c.sent += n
                stats["sent"] += n
                if c.sent >= want:
                    stats["bodies_sent"] += 1
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                elif c.sent > len(c.head):
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                    seq += 1
                    heapq.heappush(rearm, (time.monotonic() + a.interval, seq, c))

    flood_seconds = time.monotonic() - start
    settle_end = time.monotonic() + a.settle
    while a.pid and time.monotonic() < settle_end:
        r = rss_mb(a.pid)
        if r is not None:
            peak = max(peak, r)
        time.sleep(0.05)
    rss_after = rss_mb(a.pid) if a.pid else None

    def fmt(x):
        return "na" if x is None else f"{x:.1f}"

    print(f"FLOOD conns={a.conns} seconds={flood_seconds:.1f} rounds={stats['rounds']} "
          f"bodies_sent={stats['bodies_sent']} answered={stats['answered']} "
          f"status_413={stats['status_413']} other_status={stats['other_status']} "
          f"closed_early={stats['closed_early']} unanswered={stats['unanswered']} errors={stats['errors']} "
          f"sent_mb={stats['sent'] / 1048576:.1f} rss_before_mb={fmt(rss_before)} "
          f"peak_rss_mb={fmt(peak if a.pid else None)} rss_after_mb={fmt(rss_after)}")
    sys.stdout.flush()
    return 0 if connected_any else 1


if __name__ == "__main__":
    sys.exit(main())
