#!/usr/bin/env python3
"""A webhook receiver for the tests, written from the Standard Webhooks and CloudEvents
specifications (not from AuditLog's code): it checks every delivery's signature itself.

usage: webhook_receiver.py SECRET_FILE OUT_FILE PORT_FILE [FAIL_UNTIL_FILE]

Each delivery is appended to OUT_FILE as one JSON line: its webhook-id, whether the
signature verified, the CloudEvent. While FAIL_UNTIL_FILE holds a Unix time in the future the
receiver answers 500 (and records nothing). The bound port is written to PORT_FILE.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

secret_file, out_file, port_file = sys.argv[1:4]
fail_until_file = sys.argv[4] if len(sys.argv) > 4 else None


def key():
    with open(secret_file) as f:
        secret = f.read().strip()
    assert secret.startswith("whsec_"), secret
    return base64.b64decode(secret[len("whsec_"):])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if fail_until_file and os.path.exists(fail_until_file):
            with open(fail_until_file) as f:
                text = f.read().strip()
            if text and time.time() < float(text):
                self.send_response(500)
                self.end_headers()
                return
        msg_id = self.headers["webhook-id"]
        timestamp = self.headers["webhook-timestamp"]
        signed = f"{msg_id}.{timestamp}.".encode() + body
        expected = base64.b64encode(hmac.new(key(), signed, hashlib.sha256).digest()).decode()
        signatures = [s.split(",", 1)[1] for s in self.headers["webhook-signature"].split(" ") if s.startswith("v1,")]
        verified = any(hmac.compare_digest(expected, s) for s in signatures)
        fresh = abs(time.time() - int(timestamp)) < 300
        event = json.loads(body)
        record = {
            "webhook_id": msg_id,
            "verified": verified and fresh,
            "content_type": self.headers["Content-Type"],
            "event": event,
        }
        with open(out_file, "a") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
