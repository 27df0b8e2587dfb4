"""asyncio streams: a coroutine per connection on one event loop, with uvloop when it is installed.

In io-wait each request awaits its query: asyncpg and its pool (CB_DB_POOL connections, prepared
statements) on PostgreSQL, a pool of stream connections on the service. In cpu the coroutine burns
the request's CPU on the loop's one thread, so every other connection waits, as it would.
Prints which loop it runs on stderr. Usage: asyncio_server.py PORT echo|http (CB_* variables: scenario.py)
"""
import asyncio
import sys
import traceback

import scenario
from minihttp import session


class PgBackend:
    async def open(self):
        import asyncpg  # only io-wait on PostgreSQL needs it (python3-asyncpg)
        self.asyncpg = asyncpg
        self.login = scenario.pg_login()
        if scenario.POOLED:
            self.pool = await asyncpg.create_pool(min_size=0, max_size=max(1, scenario.DB_POOL), **self.login)

    async def query(self, row_id):
        if scenario.POOLED:
            row = await self.pool.fetchrow(scenario.PG_QUERY, row_id)
        else:
            conn = await self.asyncpg.connect(**self.login)
            try:
                row = await conn.fetchrow(scenario.PG_QUERY, row_id)
            finally:
                await conn.close()
        return scenario.check_row(row_id, row)


class ServiceBackend:
    """Stream connections to the service: a pool of at most CB_DB_POOL, or one per request."""

    async def open(self):
        self.idle = []
        self.slots = asyncio.Semaphore(max(1, scenario.DB_POOL)) if scenario.POOLED else None

    async def query(self, row_id):
        if self.slots is not None:
            async with self.slots:
                return await self.ask(row_id)
        return await self.ask(row_id)

    async def ask(self, row_id):
        reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(*scenario.service_address())
        q = scenario.service_query(row_id)
        try:
            writer.write(q)
            answer = await reader.readexactly(scenario.SERVICE_ANSWER_BYTES)
        except Exception:
            writer.close()
            raise
        if scenario.POOLED:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return scenario.check_answer(q, answer)


async def serve(reader, writer, backend):
    s = session(scenario.PROTOCOL)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            out = s.feed(data)
            if out:
                if scenario.WORK_US:
                    scenario.cpu_work()  # blocks the loop, as CPU work in a coroutine does
                elif backend is not None and not await ask(backend):
                    break
                writer.write(out)
                await writer.drain()
            if s.close:
                break
    except ConnectionError:
        pass
    finally:
        writer.close()


async def ask(backend):
    """One query before a reply; False (after reporting the fault) when it failed or was wrong."""
    row_id = scenario.next_row()
    try:
        wrong = await backend.query(row_id)
    except Exception as e:
        wrong = "%s: %s" % (scenario.BACKEND, traceback.format_exception_only(type(e), e)[-1].strip())
    if wrong:
        scenario.fault(wrong)
    return not wrong


async def main():
    backend = {"postgres": PgBackend, "service": ServiceBackend}.get(scenario.BACKEND)
    backend = backend() if backend else None
    if backend is not None:
        await backend.open()
    server = await asyncio.start_server(lambda r, w: serve(r, w, backend), "127.0.0.1", scenario.PORT, backlog=4096)
    scenario.listening(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    scenario.start()
    try:
        import uvloop
        uvloop.install()
        print("asyncio_server: uvloop", file=sys.stderr)
    except ImportError:
        print("asyncio_server: the standard asyncio loop (uvloop not installed)", file=sys.stderr)
    asyncio.run(main())
