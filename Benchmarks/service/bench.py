#!/usr/bin/env python3
"""What running as a service costs, measured side by side in one run (docs/PERFORMANCE.md,
"Running as a service"): reads with and without audit.read records, appends with no
webhook, with a live receiver and with a dead one.

usage: Benchmarks/service.sh [REQUESTS]   (builds release, runs this with the binary)
"""
import http.client, http.server, json, os, subprocess, sys, tempfile, threading, time, statistics, re

binary, requests = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000
TOKEN = "bench-token"


def serve(directory, *extra):
    err = open(os.path.join(directory, "serve.err"), "w+")
    p = subprocess.Popen([binary, "serve", "--dir", os.path.join(directory, "log"), "--port", "0", *extra],
                         env={**os.environ, "AUDITLOG_API_TOKEN": TOKEN}, stderr=err, stdout=subprocess.DEVNULL)
    for _ in range(600):
        err.seek(0)
        m = re.search(r"http://127\.0\.0\.1:(\d+)", err.read())
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    raise SystemExit("serve did not start")


def timed(port, method, path, bodies):
    c = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    lat = []
    start = time.perf_counter()
    for body in bodies:
        t = time.perf_counter()
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        assert r.status in (200, 201), r.status
        lat.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    lat.sort()
    return len(bodies) / total, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3


def events(i):
    return json.dumps([{"event_type": "decision", "timestamp": "2026-12-01T12:00:00Z", "verdict": "block" if (i + k) % 4 == 0 else "allow",
                        "user": f"u{k}", "team": "payments", "model": "m1", "cost": 0.001} for k in range(10)])


class Sink(http.server.BaseHTTPRequestHandler):
    # Keep-alive, as a production receiver behind a proxy would: one connection, not one a
    # delivery.
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
threading.Thread(target=sink.serve_forever, daemon=True).start()
results = {}
workloads = [("reads, audit.read on", [], None), ("reads, --no-read-audit", ["--no-read-audit"], None),
                          ("appends, no webhook", ["--no-read-audit"], None),
                          ("appends, webhook to a live receiver", ["--no-read-audit"], f"http://127.0.0.1:{sink.server_address[1]}/"),
                          ("appends, webhook to a dead receiver", ["--no-read-audit"], "http://127.0.0.1:9/")]
# Three rounds, the workloads interleaved in each, so a slow minute of the machine hits all.
for _ in range(3):
  for name, extra, hook in workloads:
    with tempfile.TemporaryDirectory() as d:
        p, port = serve(d, *extra)
        try:
            timed(port, "POST", "/v1/events", [events(i) for i in range(100)])
            if hook:
                c = http.client.HTTPConnection("127.0.0.1", port)
                c.request("POST", "/v1/webhooks", body=json.dumps({"url": hook, "events": ["event.blocked"]}),
                          headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
                assert c.getresponse().status == 201
            if name.startswith("reads"):
                r = timed(port, "GET", "/v1/events?limit=50&verdict=block", [None] * requests)
            else:
                r = timed(port, "POST", "/v1/events", [events(i) for i in range(requests)])
            results.setdefault(name, []).append(r)
        finally:
            p.terminate()
            p.wait()
print(f"{'workload':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   (each append request: 10 events, 2.5 blocked)")
print("medians of 3 rounds")
for name, _, _ in workloads:
    rate, p50, p99 = (statistics.median(r[i] for r in results[name]) for i in range(3))
    print(f"{name:40} {rate:9.0f} {p50:8.2f} {p99:8.2f}")
