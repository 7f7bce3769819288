#!/usr/bin/python3
# A Web Push service for integration tests, checking what the server sends the way a real one
# (and the browser behind it) would, with code independent of the server's: python3-cryptography.
#
# Usage: /usr/bin/python3 push_sink.py
# Listens on a free 127.0.0.1 port (HTTP/1.1, keep-alive) and prints "listening on
# 127.0.0.1:PORT" (flushed). Control calls (JSON):
#   POST /_sink/subscriptions          -> {"id", "endpoint", "keys": {"p256dh", "auth"}}: a key pair
#                                          and auth secret made here, as a browser makes them
#   POST /_sink/vapid-key {"public_key"}  the server's VAPID key (GET /api/v1/push/public-key)
#   POST /_sink/respond/ID {"statuses": [429, 201], "retry_after": "1"}: the next answers to
#                                          pushes for ID, in order (then 201)
#   GET  /_sink/received               -> {"pushes": [...], "connections": n}
# A push is POST /push/ID. Its VAPID Authorization header is verified (ES256 signature with the
# configured key, k= equal to it, aud = this origin, exp in the future and at most 24 h ahead,
# sub a mailto: or https: URI) and its aes128gcm body decrypted with ID's private key and auth
# secret. Every push is recorded with its headers, the checks' results and the plaintext; one
# that fails VAPID is answered 403 and one that cannot be decrypted 400, as a real service would.
import base64
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

lock = threading.Lock()
subscriptions = {}  # id -> {"private": key, "auth": bytes, "answers": [(status, retry_after)]}
pushes = []
state = {"vapid": None, "connections": 0, "next_id": 0, "origin": ""}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def point(public_key):
    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def hkdf(salt, ikm, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def check_vapid(authorization):
    """Returns (ok, error, claims)."""
    m = re.fullmatch(r"vapid t=([A-Za-z0-9_\-.]+), ?k=([A-Za-z0-9_\-]+)", authorization or "")
    if not m:
        return False, "no vapid t=, k= header", {}
    token, k = m.group(1), m.group(2)
    if state["vapid"] is None:
        return False, "the sink was not told the VAPID key", {}
    if unb64url(k) != state["vapid"]:
        return False, "k= is not the served public key", {}
    parts = token.split(".")
    if len(parts) != 3:
        return False, "not a JWS compact serialisation", {}
    header = json.loads(unb64url(parts[0]))
    claims = json.loads(unb64url(parts[1]))
    if header.get("alg") != "ES256":
        return False, "alg is not ES256", claims
    signature = unb64url(parts[2])
    if len(signature) != 64:
        return False, "signature is not 64 bytes (JOSE r||s)", claims
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), state["vapid"])
    try:
        key.verify(der, (parts[0] + "." + parts[1]).encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False, "bad signature", claims
    if claims.get("aud") != state["origin"]:
        return False, "aud %r is not %r" % (claims.get("aud"), state["origin"]), claims
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 86400 + 5:
        return False, "exp %r not within 24 h ahead" % (exp,), claims
    sub = claims.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https:")):
        return False, "sub %r is not a mailto: or https: URI" % (sub,), claims
    return True, "", claims


def decrypt(body, sub):
    """RFC 8291 / RFC 8188 as a user agent does it: returns (plaintext, error)."""
    if len(body) < 21:
        return None, "shorter than the header"
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    keyid = body[21:21 + idlen]
    record = body[21 + idlen:]
    if idlen != 65 or rs < 18 or len(record) > rs or len(record) < 17:
        return None, "bad header (rs %d, idlen %d, record %d)" % (rs, idlen, len(record))
    server = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), keyid)
    private = sub["private"]
    shared = private.exchange(ec.ECDH(), server)
    ua_public = point(private.public_key())
    ikm = hkdf(sub["auth"], shared, b"WebPush: info\x00" + ua_public + keyid, 32)
    cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    try:
        padded = AESGCM(cek).decrypt(nonce, record, None)
    except InvalidTag:
        return None, "authentication tag does not match"
    stripped = padded.rstrip(b"\x00")
    if not stripped.endswith(b"\x02"):
        return None, "the last record does not end with the 0x02 delimiter"
    return stripped[:-1].decode("utf-8"), ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with lock:
            state["connections"] += 1

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path == "/_sink/received":
            with lock:
                self.reply(200, {"pushes": list(pushes), "connections": state["connections"]})
        else:
            self.reply(404, {})

    def do_POST(self):
        raw = self.body()
        if self.path == "/_sink/subscriptions":
            private = ec.generate_private_key(ec.SECP256R1())
            auth = os.urandom(16)
            with lock:
                state["next_id"] += 1
                sid = str(state["next_id"])
                subscriptions[sid] = {"private": private, "auth": auth, "answers": []}
            self.reply(200, {"id": sid, "endpoint": state["origin"] + "/push/" + sid,
                             "keys": {"p256dh": b64url(point(private.public_key())), "auth": b64url(auth)}})
        elif self.path == "/_sink/vapid-key":
            with lock:
                state["vapid"] = unb64url(json.loads(raw)["public_key"])
            self.reply(200, {})
        elif self.path.startswith("/_sink/respond/"):
            request = json.loads(raw)
            with lock:
                sub = subscriptions[self.path.rsplit("/", 1)[1]]
                sub["answers"] += [(s, request.get("retry_after")) for s in request["statuses"]]
            self.reply(200, {})
        elif self.path.startswith("/push/"):
            self.push(self.path[len("/push/"):], raw)
        else:
            self.reply(404, {})

    def push(self, sid, raw):
        with lock:
            sub = subscriptions.get(sid)
        if sub is None:
            self.reply(404, {})
            return
        ok, vapid_error, claims = check_vapid(self.headers.get("Authorization"))
        plaintext, decrypt_error = decrypt(raw, sub) if ok else (None, "not tried")
        with lock:
            status, retry_after = sub["answers"].pop(0) if sub["answers"] else (201, None)
        if not ok:
            status, retry_after = 403, None
        elif plaintext is None:
            status, retry_after = 400, None
        record = {"subscription": sid, "answered": status, "vapid_ok": ok, "vapid_error": vapid_error,
                  "claims": claims, "plaintext": plaintext, "decrypt_error": decrypt_error,
                  "size": len(raw), "at": time.time(),
                  "headers": {name.lower(): self.headers.get(name) for name in
                              ("TTL", "Urgency", "Topic", "Content-Encoding", "Content-Type")}}
        with lock:
            pushes.append(record)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.reply(status, None, headers)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    state["origin"] = "http://127.0.0.1:%d" % port
    print("listening on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
