#!/usr/bin/python3
# An SMTP sink for integration tests: stores every message it receives as DIR/NNNNNN.eml.
#
# Usage: /usr/bin/python3 smtp_sink.py DIR
# Listens on a free 127.0.0.1 port and prints "listening on 127.0.0.1:PORT" (flushed) once it
# accepts connections. Accepts AUTH PLAIN/LOGIN with any credentials, without TLS. Each message is
# written to a temporary file and renamed, so a reader never sees half a message. The envelope is
# prepended as "X-Sink-Mail-From:" and "X-Sink-Rcpt-To:" header lines. While a file DIR/fail
# exists, every message is refused with 451 (a temporary failure), for retry tests.
import asyncio
import os
import signal
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.directory, "fail")):
            return "451 4.3.0 Sink told to fail"
        self.count += 1
        name = "%06d.eml" % self.count
        header = "X-Sink-Mail-From: %s\r\nX-Sink-Rcpt-To: %s\r\n" % (
            envelope.mail_from, ", ".join(envelope.rcpt_tos))
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(header.encode("utf-8"))
            out.write(envelope.original_content or envelope.content)
            out.flush()
            os.fsync(out.fileno())
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 2.0.0 OK stored as " + name


def accept_anyone(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)


async def main(directory):
    handler = Sink(directory)
    loop = asyncio.get_running_loop()

    def factory():
        # hostname given, so that aiosmtpd does not call the (possibly slow) getfqdn().
        return SMTP(handler, hostname="localhost", authenticator=accept_anyone,
                    auth_require_tls=False, enable_SMTPUTF8=True)

    server = await loop.create_server(factory, host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    print("listening on 127.0.0.1:%d" % port, flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: smtp_sink.py DIR", file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(sys.argv[1]))
