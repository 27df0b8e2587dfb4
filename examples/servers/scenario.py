"""The scenario contract, Python side: what the harness tells a program about its cell, read once.

Every variable comes from the environment (a password never goes on a command line; see the README,
"Measure your own server", for the whole contract):

  CB_SCENARIO   steady | idle | io-wait | cpu | churn | payload      CB_PROTOCOL  echo | http
  CB_PORT       the port to listen on (also {port})                  CB_WORKERS   --workers (also {workers})
  io-wait       CB_BACKEND postgres | service, CB_BACKEND_CONNECTIONS pooled | per-request,
                CB_DB_POOL (connections per process when pooled, 0 per request), CB_BACKEND_DELAY_MS
    postgres    CB_PG_HOST, CB_PG_PORT, CB_PG_USER, CB_PG_DATABASE, CB_PG_PASSWORD_FILE (absent under
                trust), CB_PG_QUERY (the SQL, row id as $1), CB_PG_ROWS (ids 1..CB_PG_ROWS)
    service     CB_SERVICE_HOST, CB_SERVICE_PORT
  cpu           CB_WORK_US: microseconds of CPU per reply, which this program calibrates itself

What a program says back, one JSON line each on stdout: {"event":"calibration",...} before it
listens (cpu), {"event":"listening","port":N} once it accepts, and {"event":"fault","reason":...}
when a backend answer is wrong or a backend fails, which fails the cell.
"""
import json
import os
import sys
import threading
import time

ENV = os.environ
SCENARIO = ENV.get("CB_SCENARIO", "steady")
PROTOCOL = ENV.get("CB_PROTOCOL", sys.argv[2] if len(sys.argv) > 2 else "http")
PORT = int(ENV.get("CB_PORT", sys.argv[1] if len(sys.argv) > 1 else "0"))
WORKERS = int(ENV.get("CB_WORKERS", "4"))

IO_WAIT = SCENARIO == "io-wait"
BACKEND = ENV.get("CB_BACKEND", "") if IO_WAIT else ""
POOLED = ENV.get("CB_BACKEND_CONNECTIONS", "pooled") == "pooled"
DB_POOL = int(ENV.get("CB_DB_POOL", "0") or 0)
ROWS = int(ENV.get("CB_PG_ROWS", "10000"))
PG_QUERY = ENV.get("CB_PG_QUERY", "")
WORK_US = int(ENV.get("CB_WORK_US", "0")) if SCENARIO == "cpu" else 0

_lock = threading.Lock()


def say(event, **fields):
    """One JSON line on stdout, whole (a lock: threads share stdout; processes write one line each)."""
    line = json.dumps({"event": event, **fields}, separators=(",", ":")) + "\n"
    with _lock:
        sys.stdout.write(line)
        sys.stdout.flush()


_faults = set()


def fault(reason):
    """Something outside the model went wrong: the harness fails the cell with this reason."""
    if reason not in _faults:
        _faults.add(reason)
        say("fault", reason=reason)


# ---- cpu: the same loop as the harness's (xorshift32), calibrated here, in this interpreter ----

_sink = 1


def burn(iterations):
    global _sink
    x = _sink | 1
    for _ in range(iterations):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
    _sink = x


def calibrate(work_us):
    """Iterations that take work_us of this thread's CPU time: the median of 25 timed batches (about
    a quarter of a second) after a warm-up. The thread's own CPU clock leaves out any wait for a core;
    the median over many batches follows the speed the requests will see, which on this VM changes
    from moment to moment (the same loop costs ~130 or ~200 ns per iteration)."""
    batch = 50_000
    burn(batch)
    per = []
    for _ in range(25):
        t0 = time.thread_time_ns()
        burn(batch)
        per.append((time.thread_time_ns() - t0) / batch)
    ns = sorted(per)[len(per) // 2]
    return max(1, round(work_us * 1000 / ns)), ns


ITERATIONS = 0


def start():
    """Calibrates the CPU loop in a cpu cell and reports it, before the program listens."""
    global ITERATIONS
    if WORK_US > 0:
        ITERATIONS, ns = calibrate(WORK_US)
        say("calibration", workUs=WORK_US, iterations=ITERATIONS, nsPerIteration=round(ns, 2))


def listening(port):
    say("listening", port=port)


def cpu_work():
    burn(ITERATIONS)


# ---- io-wait: the row every query must return, and the service's wire format ----

_next = 0


def next_row():
    """A row id for the next query, spread over the table (the harness's rowFor)."""
    global _next
    _next += 1
    return ((_next * 2246822519) & 0xFFFFFFFF) % ROWS + 1


def check_row(row_id, row):
    """None when the row is (id, randomnumber) of row_id, else what is wrong."""
    if row is None:
        return "postgres: the query returned no row"
    if row[0] != row_id or row[1] != (row_id * 2654435761) % 10000 + 1:
        return "postgres: a wrong row: asked for %d, got (%r, %r)" % (row_id, row[0], row[1])
    return None


def service_query(row_id):
    return b"Q%08x\n" % row_id


SERVICE_ANSWER_BYTES = 64


def check_answer(query, answer):
    """None when the service's 64-byte answer answers the query, else what is wrong."""
    if len(answer) != SERVICE_ANSWER_BYTES or answer[0:1] != b"A" or answer[-1:] != b"\n":
        return "service: malformed backend answer"
    return None if answer[1:9] == query[1:9] else "service: backend answered a different query"


def service_address():
    return ENV.get("CB_SERVICE_HOST", "127.0.0.1"), int(ENV["CB_SERVICE_PORT"])


def pg_login():
    """host, port, user, database and password (read from its 0600 file; None under trust)."""
    path = ENV.get("CB_PG_PASSWORD_FILE")
    password = None
    if path:
        with open(path, encoding="utf-8") as f:
            password = f.read().strip()
    return dict(host=ENV["CB_PG_HOST"], port=int(ENV["CB_PG_PORT"]), user=ENV["CB_PG_USER"],
                database=ENV["CB_PG_DATABASE"], password=password)


def psycopg2_dsn():
    login = pg_login()
    dsn = dict(host=login["host"], port=login["port"], user=login["user"], dbname=login["database"])
    if login["password"] is not None:
        dsn["password"] = login["password"]
    return dsn


def psycopg2_query():
    """CB_PG_QUERY with psycopg2's placeholder (it binds parameters on the client side)."""
    return PG_QUERY.replace("$1", "%s")
