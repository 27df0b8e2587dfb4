"""Tornado: its HTTPServer and RequestHandlers, and for echo its TCPServer and IOStreams, on one loop.

What the write-ups point to after the standard library ("calls a C epoll wrapper and solved C10K").
Since Tornado 5 its IOLoop is asyncio's loop, so this runs on uvloop when it is installed, as
py-asyncio does: what differs from py-asyncio is Tornado's own layers (its HTTP/1.1 parser,
HTTPServerRequest, RequestHandler), not the loop. HTTP is Tornado's, not minihttp: its answers differ
from ours where its parser's rules do (README: "The frameworks").

io-wait: asyncpg and its pool, awaited in the handler (the same PgBackend as py-asyncio). Tornado
documents two ways to reach a database: a native asyncio driver awaited on the loop, or a blocking one
run in a thread pool (IOLoop.run_in_executor); on Tornado 5+ an asyncio driver is the direct one, and
asyncpg keeps the comparison with py-asyncio to Tornado itself. The service is reached through
Tornado's TCPClient. cpu burns on the loop's one thread, as in any handler.
Usage: tornado_server.py PORT echo|http (the scenario comes from CB_* variables, see scenario.py)
"""
import asyncio
import sys

import scenario
from minihttp import HELLO, MAX_BODY, MAX_BYTES_ROUTE, bytes_body

import tornado.httpserver
import tornado.iostream
import tornado.netutil
import tornado.tcpclient
import tornado.tcpserver
import tornado.web


class ServiceBackend:
    """IOStreams to the service from Tornado's TCPClient: a pool of at most CB_DB_POOL, or one per request."""

    async def open(self):
        self.client = tornado.tcpclient.TCPClient()
        self.idle = []
        self.slots = asyncio.Semaphore(max(1, scenario.DB_POOL)) if scenario.POOLED else None

    async def query(self, row_id):
        if self.slots is None:
            return await self.ask(row_id)
        async with self.slots:
            return await self.ask(row_id)

    async def ask(self, row_id):
        stream = self.idle.pop() if self.idle else await self.client.connect(*scenario.service_address())
        q = scenario.service_query(row_id)
        try:
            await stream.write(q)
            answer = await stream.read_bytes(scenario.SERVICE_ANSWER_BYTES)
        except Exception:
            stream.close()
            raise
        if scenario.POOLED:
            self.idle.append(stream)
        else:
            stream.close()
        return scenario.check_answer(q, answer)


class Base(tornado.web.RequestHandler):
    def initialize(self, backend):
        self.backend = backend

    def set_default_headers(self):
        self.set_header("Content-Type", "text/plain")

    def compute_etag(self):
        return None  # our models send no ETag; Tornado would hash every body for one

    def write_error(self, status_code, **kwargs):
        self.finish(b"Not Found" if status_code == 404 else self._reason.encode())

    async def prepare(self):
        """The scenario's work before the reply: a query (closing the client on a fault) or the CPU."""
        if scenario.WORK_US:
            scenario.cpu_work()
        elif self.backend is not None:
            from asyncio_server import ask
            if not await ask(self.backend):
                self.request.connection.close()
                self._finished = True  # Tornado writes nothing more on a connection we closed


class Hello(Base):
    def get(self):
        self.write(HELLO)

    head = get


class Echo(Base):
    def post(self):
        self.set_header("Content-Type", "application/octet-stream")
        self.write(self.request.body)


_bodies = {}


class Bytes(Base):
    def get(self, digits):
        n = int(digits)
        if n > MAX_BYTES_ROUTE or (len(digits) > 1 and digits[0] == "0"):
            raise tornado.web.HTTPError(404)
        body = _bodies.get(n)
        if body is None:
            body = _bodies[n] = bytes_body(n)
        self.set_header("Content-Type", "application/octet-stream")
        self.write(body)

    head = get


class NotFound(Base):
    async def prepare(self):
        raise tornado.web.HTTPError(404)


class EchoServer(tornado.tcpserver.TCPServer):
    def __init__(self, backend):
        super().__init__()
        self.backend = backend

    async def handle_stream(self, stream, address):
        from asyncio_server import ask
        try:
            while True:
                data = await stream.read_bytes(65536, partial=True)
                if scenario.WORK_US:
                    scenario.cpu_work()
                elif self.backend is not None and not await ask(self.backend):
                    stream.close()
                    return
                await stream.write(data)
        except tornado.iostream.StreamClosedError:
            pass


async def main():
    backend = None
    if scenario.BACKEND:
        from asyncio_server import PgBackend
        backend = PgBackend() if scenario.BACKEND == "postgres" else ServiceBackend()
        await backend.open()
    if scenario.PROTOCOL == "echo":
        server = EchoServer(backend)
    else:
        args = dict(backend=backend)
        app = tornado.web.Application([
            (r"/", Hello, args), (r"/echo", Echo, args), (r"/bytes/([0-9]{1,7})", Bytes, args),
        ], default_handler_class=NotFound, default_handler_args=args, log_function=lambda handler: None)
        # The project's limits (8 KiB of head, 16 MiB of body) are Tornado settings, not patches.
        server = tornado.httpserver.HTTPServer(app, max_header_size=8192, max_body_size=MAX_BODY)
    sockets = tornado.netutil.bind_sockets(scenario.PORT, "127.0.0.1", backlog=4096)
    server.add_sockets(sockets)
    scenario.listening(sockets[0].getsockname()[1])
    await asyncio.Event().wait()


if __name__ == "__main__":
    scenario.start()
    try:
        import uvloop
        uvloop.install()
        print("tornado_server: Tornado %s on uvloop" % tornado.version, file=sys.stderr)
    except ImportError:
        print("tornado_server: Tornado %s on the standard asyncio loop" % tornado.version, file=sys.stderr)
    asyncio.run(main())
