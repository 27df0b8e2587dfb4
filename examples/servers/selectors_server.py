"""One thread, non-blocking sockets and a selectors loop (epoll underneath on Linux).

What asyncio is built on, without the coroutines: the loop asks which sockets are ready and serves
each in turn. In io-wait the database is in the same loop: psycopg2 in asynchronous mode
(async_=1), its connection's descriptor registered in the same selector and advanced with poll()
whenever it is ready (the design of the write-up about querying PostgreSQL with epoll); the
service is a non-blocking socket likewise. A client is not read while its query is out. The
backend connections are a pool of CB_DB_POOL (a request that finds none free waits its turn), or
one per request. In cpu the loop burns each request's CPU itself, so the others wait.
Usage: selectors_server.py PORT echo|http (the scenario comes from CB_* variables, see scenario.py)
"""
import collections
import errno
import os
import selectors
import socket
import traceback

import scenario
from minihttp import session

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class PgAsync:
    """A psycopg2 connection in asynchronous mode: progress() each time its descriptor is ready."""

    def __init__(self):
        import psycopg2  # only io-wait on PostgreSQL needs it (python3-psycopg2)
        from psycopg2 import extensions
        self.polls = {extensions.POLL_READ: READ, extensions.POLL_WRITE: WRITE}
        self.conn = psycopg2.connect(async_=1, **scenario.psycopg2_dsn())
        self.sql = scenario.psycopg2_query()
        self.cur = None  # once connected
        self.row_id = 0

    def fileno(self):
        return self.conn.fileno()

    def begin(self, row_id):
        self.row_id = row_id
        if self.cur is not None:
            self.cur.execute(self.sql, (row_id,))

    def progress(self):
        """(events to wait for, None) while working; (0, None or what is wrong) once the row is in."""
        events = self.polls.get(self.conn.poll(), 0)  # POLL_OK is 0; an error raises
        if events:
            return events, None
        if self.cur is None:  # the connection is up (startup, authentication): now the query
            self.cur = self.conn.cursor()
            self.cur.execute(self.sql, (self.row_id,))
            return self.progress()
        return 0, scenario.check_row(self.row_id, self.cur.fetchone())

    def close(self):
        self.conn.close()


class ServiceAsync:
    """A non-blocking socket to the service: connect, send the 10-byte query, read the 64-byte answer."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = self.sock.connect_ex(scenario.service_address())
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, os.strerror(err))
        self.phase = "connect" if err else "send"

    def fileno(self):
        return self.sock.fileno()

    def begin(self, row_id):
        self.query, self.answer = scenario.service_query(row_id), b""
        if self.phase == "idle":
            self.phase = "send"

    def progress(self):
        if self.phase == "connect":  # first asked before any event: wait until writable
            self.phase = "connected"
            return WRITE, None
        if self.phase == "connected":
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err))
            self.phase = "send"
        if self.phase == "send":
            self.sock.send(self.query)  # 10 bytes into an empty socket buffer
            self.phase = "recv"
            return READ, None
        try:
            chunk = self.sock.recv(scenario.SERVICE_ANSWER_BYTES - len(self.answer))
        except BlockingIOError:
            return READ, None
        if not chunk:
            raise ConnectionError("the service closed the connection")
        self.answer += chunk
        if len(self.answer) < scenario.SERVICE_ANSWER_BYTES:
            return READ, None
        self.phase = "idle"
        return 0, scenario.check_answer(self.query, self.answer)

    def close(self):
        self.sock.close()


class Server:
    def __init__(self, listener):
        self.sel = selectors.DefaultSelector()
        self.listener = listener
        self.sessions = {}  # client socket -> protocol session
        self.pending = {}  # client socket -> reply bytes not yet sent
        self.held = {}  # backend -> (client, reply) while its query is out
        self.watching = {}  # backend -> the events its descriptor is registered for
        self.idle, self.opened, self.waiting = [], 0, collections.deque()
        self.pool = max(1, scenario.DB_POOL)
        self.backend = {"postgres": PgAsync, "service": ServiceAsync}.get(scenario.BACKEND)
        self.sel.register(listener, READ, "accept")

    def run(self):
        while True:
            for key, events in self.sel.select():
                if key.data == "accept":
                    self.accept()
                elif key.data == "client":
                    self.client_ready(key.fileobj, events)
                else:
                    self.drive(key.data)

    def accept(self):
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sessions[conn] = session(scenario.PROTOCOL)
        self.sel.register(conn, READ, "client")

    def drop(self, conn, watched=True):
        if watched:
            self.sel.unregister(conn)
        self.pending.pop(conn, None)
        self.sessions.pop(conn, None)
        conn.close()

    def client_ready(self, conn, events):
        if events & WRITE:
            return self.send(conn, self.pending.pop(conn), watched=True)
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            return self.drop(conn)
        reply = self.sessions[conn].feed(data)
        if not reply:
            return
        if self.backend is None:
            if scenario.WORK_US:
                scenario.cpu_work()
            return self.send(conn, reply, watched=True)
        self.sel.unregister(conn)  # not read while its query is out
        self.waiting.append((conn, reply))
        self.next_query()

    def send(self, conn, reply, watched):
        """Sends what it can now, the rest when writable; reads the client again once all is sent."""
        try:
            sent = conn.send(reply)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return self.drop(conn, watched)
        if sent < len(reply):
            self.pending[conn] = reply[sent:]
            return self.watch_client(conn, WRITE, watched)
        if self.sessions[conn].close:
            return self.drop(conn, watched)
        self.watch_client(conn, READ, watched)

    def watch_client(self, conn, events, watched):
        if watched:
            self.sel.modify(conn, events, "client")
        else:
            self.sel.register(conn, events, "client")

    def next_query(self):
        """Gives the first waiting request a backend connection: an idle one, a new one, or none yet."""
        while self.waiting and (self.idle or self.opened < self.pool or not scenario.POOLED):
            conn, reply = self.waiting.popleft()
            if self.idle:
                b = self.idle.pop()
            else:
                try:
                    b = self.backend()
                except Exception as e:
                    self.failed(conn, None, e)
                    continue
                self.opened += 1
            self.held[b] = (conn, reply)
            b.begin(scenario.next_row())
            self.drive(b)

    def drive(self, b):
        """Advances a backend connection; when its row is in, answers its client."""
        try:
            events, wrong = b.progress()
        except Exception as e:
            conn, _ = self.held.pop(b)
            return self.failed(conn, b, e)
        if events:
            return self.watch(b, events)
        self.unwatch(b)
        conn, reply = self.held.pop(b)
        if wrong:
            scenario.fault(wrong)
            self.close_backend(b)
            return self.drop(conn, watched=False)
        if scenario.POOLED:
            self.idle.append(b)
        else:
            self.close_backend(b)
        self.send(conn, reply, watched=False)
        self.next_query()

    def watch(self, b, events):
        """Registers the backend's descriptor for `events` (libpq may change it while connecting)."""
        now = (b.fileno(), events)
        was = self.watching.get(b)
        if was == now:
            return
        if was is not None and was[0] == now[0]:
            self.sel.modify(now[0], events, b)
        else:
            if was is not None:
                self.sel.unregister(was[0])
            self.sel.register(now[0], events, b)
        self.watching[b] = now

    def unwatch(self, b):
        was = self.watching.pop(b, None)
        if was is not None:
            self.sel.unregister(was[0])

    def close_backend(self, b):
        self.unwatch(b)
        self.opened -= 1
        b.close()

    def failed(self, conn, b, e):
        scenario.fault("%s: %s" % (scenario.BACKEND, traceback.format_exception_only(type(e), e)[-1].strip()))
        if b is not None:
            self.close_backend(b)
        self.drop(conn, watched=False)
        self.next_query()


def main():
    scenario.start()
    listener = socket.create_server(("127.0.0.1", scenario.PORT), backlog=4096)
    listener.setblocking(False)
    server = Server(listener)
    scenario.listening(listener.getsockname()[1])
    server.run()


if __name__ == "__main__":
    main()
