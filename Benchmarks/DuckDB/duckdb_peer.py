"""The DuckDB side of Benchmarks/compare.sh --duckdb: the same events, the same queries.

Usage: duckdb_peer.py EVENTS.ndjson WORKDIR USER USER_DAY_START_NS END_NS

Loads the NDJSON AuditLogCompare wrote (the very events it appended) into a DuckDB database
file as an analyst would (read_json_auto, timestamps parsed), then times each query as the
median of 7 after one warm-up, and prints one JSON object: seconds per workload, the load time
and the database's bytes. Every query returns its rows to Python (fetchall), as AuditLog's
return theirs to the caller.
"""
import json, os, statistics, sys, time
import duckdb

ndjson, work, user, user_day_start, end = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
path = os.path.join(work, "events.duckdb")
for suffix in ("", ".wal"):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)

HOUR, DAY = 3_600_000_000_000, 86_400_000_000_000


def ts(ns):
    return "make_timestamp(%d)" % (ns // 1000)  # microseconds since the epoch


started = time.perf_counter()
con = duckdb.connect(path)
con.execute("CREATE TABLE events AS SELECT * FROM read_json_auto(?, format='newline_delimited', timestampformat='%Y-%m-%dT%H:%M:%S.%gZ')", [ndjson])
con.execute("CHECKPOINT")
load = time.perf_counter() - started
columns = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
cost = "cost" if "cost" in columns else "0"
cache = "cache_hit" if "cache_hit" in columns else "false"

queries = {
    "newest 50 blocked in the last hour": "SELECT * FROM events WHERE verdict = 'block' AND timestamp >= %s ORDER BY timestamp DESC LIMIT 50" % ts(end - HOUR),
    "one user, one day (all events)": "SELECT * FROM events WHERE \"user\" = ? AND timestamp >= %s AND timestamp < %s ORDER BY timestamp" % (ts(user_day_start), ts(user_day_start + DAY)),
    "usage by user, 30 days": ("SELECT \"user\", count(*), sum(tokens_in), sum(tokens_out), sum(%s), sum(CASE WHEN %s THEN 1 ELSE 0 END), "
                               "sum(CASE WHEN verdict = 'block' THEN 1 ELSE 0 END), sum(CASE WHEN verdict = 'redact' THEN 1 ELSE 0 END), "
                               "sum(CASE WHEN verdict = 'escalate' THEN 1 ELSE 0 END), avg(latency_ms) FROM events "
                               "WHERE timestamp >= %s AND timestamp < %s GROUP BY \"user\" ORDER BY 5 DESC") % (cost, cache, ts(end - 30 * DAY), ts(end)),
    "usage by team × model, 7 days": ("SELECT team, model, count(*), sum(tokens_in), sum(tokens_out), sum(%s), sum(CASE WHEN %s THEN 1 ELSE 0 END), "
                                      "sum(CASE WHEN verdict = 'block' THEN 1 ELSE 0 END), sum(CASE WHEN verdict = 'redact' THEN 1 ELSE 0 END), "
                                      "sum(CASE WHEN verdict = 'escalate' THEN 1 ELSE 0 END), avg(latency_ms) FROM events "
                                      "WHERE timestamp >= %s AND timestamp < %s GROUP BY team, model ORDER BY 6 DESC") % (cost, cache, ts(end - 7 * DAY), ts(end)),
}


def run(sql):
    args = [user] if "?" in sql else []
    return len(con.execute(sql, args).fetchall())


result = {"load_seconds": load, "rows": {}, "seconds": {}}
for name, sql in queries.items():
    result["rows"][name] = run(sql)  # warm-up
    times = []
    for _ in range(7):
        t = time.perf_counter()
        run(sql)
        times.append(time.perf_counter() - t)
    result["seconds"][name] = statistics.median(times)

con.close()
cold = []
for _ in range(7):
    t = time.perf_counter()
    c = duckdb.connect(path, read_only=True)
    len(c.execute(queries["newest 50 blocked in the last hour"]).fetchall())
    c.close()
    cold.append(time.perf_counter() - t)
result["seconds"]["open a cold log + newest 50 blocked"] = statistics.median(cold)
result["bytes"] = os.path.getsize(path) + (os.path.getsize(path + ".wal") if os.path.exists(path + ".wal") else 0)
result["version"] = duckdb.__version__
print(json.dumps(result))
