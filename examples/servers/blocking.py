"""The work before each reply, for the servers that block: threads, a thread pool's workers,
processes and gevent's green threads all run the same code, and each holds its thread (or process,
or green thread) for the whole wait.

io-wait on PostgreSQL is blocking psycopg2 (autocommit, so each query is its own transaction); on the
service, a plain socket. Where the connections live is the model's choice: one per thread or
process (`per_thread`), or a pool of CB_DB_POOL shared by every green thread (`pool`, what a gevent
program keeps); per request, a new connection for every query either way. cpu is the calibrated loop.
"""
import socket
import threading
import traceback

import scenario


class PgConnection:
    def __init__(self):
        import psycopg2  # only io-wait on PostgreSQL needs it (python3-psycopg2)
        self.conn = psycopg2.connect(**scenario.psycopg2_dsn())
        self.conn.autocommit = True
        self.cur = self.conn.cursor()
        self.sql = scenario.psycopg2_query()

    def query(self, row_id):
        self.cur.execute(self.sql, (row_id,))
        return scenario.check_row(row_id, self.cur.fetchone())

    def close(self):
        self.conn.close()


class ServiceConnection:
    def __init__(self):
        self.sock = socket.create_connection(scenario.service_address())
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def query(self, row_id):
        q = scenario.service_query(row_id)
        self.sock.sendall(q)
        answer = b""
        while len(answer) < scenario.SERVICE_ANSWER_BYTES:
            chunk = self.sock.recv(scenario.SERVICE_ANSWER_BYTES - len(answer))
            if not chunk:
                return "service: the backend closed the connection"
            answer += chunk
        return scenario.check_answer(q, answer)

    def close(self):
        self.sock.close()


def connection():
    return PgConnection() if scenario.BACKEND == "postgres" else ServiceConnection()


class PerThread:
    """One connection per thread (or process), kept for its life; per request, one per query."""

    def __init__(self):
        self.local = threading.local()

    def acquire(self):
        c = getattr(self.local, "conn", None) if scenario.POOLED else None
        if c is None:
            c = connection()
            if scenario.POOLED:
                self.local.conn = c
        return c

    def release(self, c, broken):
        if broken or not scenario.POOLED:
            c.close()
            self.local.conn = None


class Pool:
    """At most `size` connections shared by every thread; a request that finds none free waits."""

    def __init__(self, size):
        self.size, self.count, self.idle = size, 0, []
        self.cond = threading.Condition()

    def acquire(self):
        if not scenario.POOLED:
            return connection()
        with self.cond:
            while not self.idle and self.count >= self.size:
                self.cond.wait()
            if self.idle:
                return self.idle.pop()
            self.count += 1
        try:
            return connection()
        except Exception:
            self.release(None, True)
            raise

    def release(self, c, broken):
        if not scenario.POOLED:
            c.close()
            return
        with self.cond:
            if broken:
                self.count -= 1
                if c is not None:
                    c.close()
            else:
                self.idle.append(c)
            self.cond.notify()


class Fault(Exception):
    """The backend failed or answered wrongly (already reported): the client's connection is over."""


def work_for(holding):
    """What runs before each reply in this scenario, or None: `holding` is "per_thread" or "pool"."""
    if scenario.WORK_US:
        return scenario.cpu_work
    if not scenario.IO_WAIT:
        return None
    holder = Pool(max(1, scenario.DB_POOL)) if holding == "pool" else PerThread()

    def wait():
        row_id = scenario.next_row()
        c = None
        try:
            c = holder.acquire()
            wrong = c.query(row_id)
        except Exception as e:
            if c is not None:
                holder.release(c, True)
            scenario.fault("%s: %s" % (scenario.BACKEND, traceback.format_exception_only(type(e), e)[-1].strip()))
            raise Fault() from e
        if wrong:
            holder.release(c, True)
            scenario.fault(wrong)
            raise Fault()
        holder.release(c, False)
    return wait
