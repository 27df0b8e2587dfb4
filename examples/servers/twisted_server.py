"""Twisted: twisted.web's Site and Resources on the epoll reactor, and for echo a Twisted Protocol.

The oldest of the Python event-driven frameworks the write-ups name: callbacks and Deferreds on
its own reactor (epoll on Linux), with its own HTTP/1.1 (twisted.web.http) and raw TCP (Protocol,
Factory). HTTP is Twisted's, not minihttp: its answers differ from ours where its parser's rules do
(README: "The frameworks").

io-wait on PostgreSQL: twisted.enterprise.adbapi over psycopg2, Twisted's own database API and what
its documentation teaches: each query runs in adbapi's thread pool, one blocking psycopg2
connection per pool thread (cp_max = CB_DB_POOL), its Deferred fired back on the reactor. A native
asynchronous driver (txpostgres) is neither in Debian nor maintained. Per request, each query
connects, runs and closes in the reactor's thread pool (64 threads). The service is reached by a
Twisted Protocol, a pool of at most CB_DB_POOL connections. cpu burns on the reactor's thread.
Usage: twisted_server.py PORT echo|http (the scenario comes from CB_* variables, see scenario.py)
"""
import sys
import traceback

import scenario
from minihttp import ECHO_405, HELLO, MAX_BYTES_ROUTE, ROOT_405, bytes_body, route

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import defer, protocol, reactor, threads  # noqa: E402
from twisted.web import resource, server  # noqa: E402


class PgBackend:
    def __init__(self):
        import psycopg2  # only io-wait on PostgreSQL needs it (python3-psycopg2)
        self.psycopg2 = psycopg2
        self.dsn = scenario.psycopg2_dsn()
        self.sql = scenario.psycopg2_query()
        if scenario.POOLED:
            from twisted.enterprise import adbapi
            n = max(1, scenario.DB_POOL)
            self.pool = adbapi.ConnectionPool("psycopg2", cp_min=1, cp_max=n, cp_noisy=False, **self.dsn)
        else:
            reactor.suggestThreadPoolSize(64)

    def query(self, row_id):
        if scenario.POOLED:
            d = self.pool.runQuery(self.sql, (row_id,))
            return d.addCallback(lambda rows: scenario.check_row(row_id, rows[0] if rows else None))
        return threads.deferToThread(self.once, row_id)

    def once(self, row_id):
        conn = self.psycopg2.connect(**self.dsn)
        try:
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute(self.sql, (row_id,))
            return scenario.check_row(row_id, cur.fetchone())
        finally:
            conn.close()


class ServiceClient(protocol.Protocol):
    def connectionMade(self):
        self.transport.setTcpNoDelay(True)
        self.answer, self.waiting = b"", None

    def ask(self, q):
        self.answer, self.waiting = b"", defer.Deferred()
        self.transport.write(q)
        return self.waiting

    def dataReceived(self, data):
        self.answer += data
        if len(self.answer) >= scenario.SERVICE_ANSWER_BYTES and self.waiting is not None:
            d, self.waiting = self.waiting, None
            d.callback(self.answer)

    def connectionLost(self, reason):
        if self.waiting is not None:
            d, self.waiting = self.waiting, None
            d.errback(ConnectionError("the service closed the connection"))


class ServiceBackend:
    """Protocol connections to the service: a pool of at most CB_DB_POOL, or one per request."""

    def __init__(self):
        self.idle = []
        self.slots = defer.DeferredSemaphore(max(1, scenario.DB_POOL)) if scenario.POOLED else None
        self.creator = protocol.ClientCreator(reactor, ServiceClient)

    def query(self, row_id):
        return self.slots.run(self.ask, row_id) if self.slots is not None else self.ask(row_id)

    @defer.inlineCallbacks
    def ask(self, row_id):
        conn = self.idle.pop() if self.idle else (yield self.creator.connectTCP(*scenario.service_address()))
        q = scenario.service_query(row_id)
        try:
            answer = yield conn.ask(q)
        except Exception:
            conn.transport.loseConnection()
            raise
        if scenario.POOLED:
            self.idle.append(conn)
        else:
            conn.transport.loseConnection()
        return scenario.check_answer(q, answer)


_bodies = {}


class Root(resource.Resource):
    """Every path: routed here by hand, as one Resource (a tree of Resources costs a lookup per segment)."""
    isLeaf = True

    def __init__(self, backend):
        super().__init__()
        self.backend = backend

    def render(self, request):
        if scenario.WORK_US:
            scenario.cpu_work()
        elif self.backend is not None:
            row_id = scenario.next_row()
            d = self.backend.query(row_id)
            d.addCallbacks(lambda wrong: self.answer(request, wrong), lambda f: self.answer(request, self.failure(f)))
            return server.NOT_DONE_YET
        return self.reply(request)

    def failure(self, f):
        return "%s: %s" % (scenario.BACKEND, traceback.format_exception_only(f.type, f.value)[-1].strip())

    def answer(self, request, wrong):
        if wrong:
            scenario.fault(wrong)
            request.transport.abortConnection()
            return
        if not request.finished and not request._disconnected:
            request.write(self.reply(request))
            request.finish()

    def reply(self, request):
        method, path = request.method, request.path
        get_or_head = method in (b"GET", b"HEAD")
        if path == b"/" and get_or_head:
            request.setHeader(b"content-type", b"text/plain")
            return HELLO
        if path == b"/echo" and method == b"POST":
            request.setHeader(b"content-type", b"application/octet-stream")
            return request.content.read()
        digits = path[7:]
        if path.startswith(b"/bytes/") and get_or_head and 1 <= len(digits) <= 7 and digits.isdigit():
            n = int(digits)
            if n <= MAX_BYTES_ROUTE and not (len(digits) > 1 and digits[0] == 0x30):
                body = _bodies.get(n)
                if body is None:
                    body = _bodies[n] = bytes_body(n)
                request.setHeader(b"content-type", b"application/octet-stream")
                return body
        request.setHeader(b"content-type", b"text/plain")
        kind, _ = route(method, path)
        if kind in (ROOT_405, ECHO_405):
            request.setResponseCode(405)
            request.setHeader(b"allow", b"POST" if kind == ECHO_405 else b"GET, HEAD")
            return b"Method Not Allowed"
        request.setResponseCode(404)
        return b"Not Found"


class Echo(protocol.Protocol):
    """Echo, with the scenario's work before each write; while a query is out the client is not read."""

    def __init__(self, backend):
        self.backend = backend

    def connectionMade(self):
        self.transport.setTcpNoDelay(True)

    def dataReceived(self, data):
        if scenario.WORK_US:
            scenario.cpu_work()
        elif self.backend is not None:
            self.transport.pauseProducing()
            d = self.backend.query(scenario.next_row())
            d.addCallbacks(lambda wrong: self.answered(data, wrong), lambda f: self.answered(data, Root.failure(None, f)))
            return
        self.transport.write(data)

    def answered(self, data, wrong):
        if wrong:
            scenario.fault(wrong)
            self.transport.abortConnection()
            return
        self.transport.write(data)
        self.transport.resumeProducing()


def main():
    scenario.start()
    backend = {"postgres": PgBackend, "service": ServiceBackend}.get(scenario.BACKEND)
    backend = backend() if backend else None
    if scenario.PROTOCOL == "echo":
        factory = protocol.Factory()
        factory.buildProtocol = lambda addr: Echo(backend)
    else:
        factory = server.Site(Root(backend))
        factory.log = lambda request: None  # no access log line per request
    port = reactor.listenTCP(scenario.PORT, factory, backlog=4096, interface="127.0.0.1")
    scenario.listening(port.getHost().port)
    print("twisted_server: Twisted on the %s" % type(reactor).__name__, file=sys.stderr)
    reactor.run()


if __name__ == "__main__":
    main()
