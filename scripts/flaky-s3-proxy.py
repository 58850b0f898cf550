#!/usr/bin/env python3
"""An HTTP proxy in front of an S3 API that fails on purpose, for the archive tests: every
Nth request is answered 500 InternalError, alternately before it reaches the store and after
the store has done it (a PUT that succeeded but whose answer was lost). Requests are forwarded
unchanged (Host included, so signatures still match). Prints its port, then serves.

    scripts/flaky-s3-proxy.py http://127.0.0.1:MOTO_PORT EVERY_N
"""
import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

upstream = urlsplit(sys.argv[1])
every = int(sys.argv[2])
lock = threading.Lock()
count = 0
ERROR = b"<Error><Code>InternalError</Code><Message>injected by flaky-s3-proxy</Message></Error>"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def fail(self):
        self.send_response(500)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(ERROR)))
        self.end_headers()
        self.wfile.write(ERROR)

    def handle_any(self):
        global count
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            count += 1
            n = count
        failing = n % every == 0
        if failing and (n // every) % 2 == 1:
            return self.fail()  # before the store sees it
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        if failing:
            return self.fail()  # after the store did it
        self.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(k, v)
        # A HEAD's length is the object's, not of the (empty) body.
        length = response.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
        self.send_header("Content-Length", length or "0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
