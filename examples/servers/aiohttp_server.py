"""aiohttp.web: its Application, router and handlers on asyncio's loop (uvloop when installed).

The async HTTP stack two of the write-ups pair with asyncio. It runs on the same loop as py-asyncio
(uvloop when python3-uvloop is installed), so what differs from py-asyncio is aiohttp's own layers:
its HTTP parser (the C one of aiohttp's http_parser, llhttp), Request and Response objects, the
router. HTTP only: aiohttp serves no raw TCP (that is asyncio's own, py-asyncio's echo).

io-wait: an asyncpg pool of CB_DB_POOL connections (the same PgBackend as py-asyncio), awaited in the
handler, as aiohttp's documentation pairs it with asyncpg; the service through asyncio streams.
cpu burns on the loop's one thread, as in any handler.
Usage: aiohttp_server.py PORT http (the scenario comes from CB_* variables, see scenario.py)
"""
import asyncio
import sys

import scenario
from aiohttp import web
from asyncio_server import PgBackend, ServiceBackend, ask
from minihttp import ECHO_405, HELLO, MAX_BODY, MAX_BYTES_ROUTE, ROOT_405, bytes_body, route

_bodies = {}


def handlers(backend):
    async def work(request):
        """The scenario's work before the reply; False when the backend failed (the client is closed)."""
        if scenario.WORK_US:
            scenario.cpu_work()
        elif backend is not None and not await ask(backend):
            request.transport.close()
            return False
        return True

    async def hello(request):
        if not await work(request):
            return web.Response(status=500)
        return web.Response(body=HELLO, content_type="text/plain")

    async def echo(request):
        body = await request.read()
        if not await work(request):
            return web.Response(status=500)
        return web.Response(body=body, content_type="application/octet-stream")

    async def some_bytes(request):
        digits = request.match_info["n"]
        n = int(digits)
        if n > MAX_BYTES_ROUTE or (len(digits) > 1 and digits[0] == "0"):
            return await not_found(request)  # route() says 404
        if not await work(request):
            return web.Response(status=500)
        body = _bodies.get(n)
        if body is None:
            body = _bodies[n] = bytes_body(n)
        return web.Response(body=body, content_type="application/octet-stream")

    async def not_found(request):
        """Every other request: our 405 for a known path with another method, else our 404 body."""
        if not await work(request):
            return web.Response(status=500)
        kind, _ = route(request.method.encode(), request.path.encode())
        if kind in (ROOT_405, ECHO_405):
            return web.Response(status=405, body=b"Method Not Allowed", content_type="text/plain",
                                headers={"Allow": "POST" if kind == ECHO_405 else "GET, HEAD"})
        return web.Response(status=404, body=b"Not Found", content_type="text/plain")

    return hello, echo, some_bytes, not_found


async def main():
    backend = None
    if scenario.BACKEND:
        backend = PgBackend() if scenario.BACKEND == "postgres" else ServiceBackend()
        await backend.open()
    hello, echo, some_bytes, not_found = handlers(backend)
    # The project's 16 MiB body limit is aiohttp's client_max_size setting.
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/", hello)  # add_get answers HEAD too
    app.router.add_post("/echo", echo)
    app.router.add_get(r"/bytes/{n:[0-9]{1,7}}", some_bytes)
    app.router.add_route("*", "/{tail:.*}", not_found)  # our 404 body, where aiohttp's says "404: Not Found"
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", scenario.PORT, backlog=4096)
    await site.start()
    scenario.listening(site._server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()


if __name__ == "__main__":
    scenario.start()
    try:
        import uvloop
        uvloop.install()
        print("aiohttp_server: aiohttp on uvloop", file=sys.stderr)
    except ImportError:
        print("aiohttp_server: aiohttp on the standard asyncio loop", file=sys.stderr)
    asyncio.run(main())
