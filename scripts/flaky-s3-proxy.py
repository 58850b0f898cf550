#!/usr/bin/env python3
"""An HTTP proxy in front of an S3 API for the archive tests and benchmarks: every Nth
request is answered 500 InternalError (EVERY_N 0: never), alternately before it reaches the
store and after the store has done it (a PUT that succeeded but whose answer was lost); each
request is delayed DELAY_MS first (a store in a distant region). With MODE `drop`, every Nth
request is instead answered by closing the connection (a connection reset by the network).
Requests are forwarded unchanged (Host included, so signatures still match). `GET /__requests`
answers the number of requests forwarded so far (not itself counted). Prints its port, then
serves.

    scripts/flaky-s3-proxy.py http://127.0.0.1:MOTO_PORT EVERY_N [DELAY_MS [MODE]]
"""
import http.client
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

upstream = urlsplit(sys.argv[1])
every = int(sys.argv[2])
delay = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0
dropping = len(sys.argv) > 4 and sys.argv[4] == "drop"
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
        if self.path == "/__requests":
            text = str(count).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
            return
        with lock:
            count += 1
            n = count
        if delay:
            time.sleep(delay)
        failing = every > 0 and n % every == 0
        if failing and dropping:
            self.close_connection = True
            return  # no answer: the connection closes under the client
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
