"""asyncio streams: a coroutine per connection on one event loop, with uvloop when it is installed.

Prints which loop it runs on stderr. Usage: asyncio_server.py PORT echo|http
"""
import asyncio
import sys

from minihttp import session


async def serve(reader, writer, protocol):
    s = session(protocol)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            out = s.feed(data)
            if out:
                writer.write(out)
                await writer.drain()
            if s.close:
                break
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(port, protocol):
    server = await asyncio.start_server(lambda r, w: serve(r, w, protocol), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    port, protocol = int(sys.argv[1]), sys.argv[2]
    try:
        import uvloop
        uvloop.install()
        print("asyncio_server: uvloop", file=sys.stderr)
    except ImportError:
        print("asyncio_server: the standard asyncio loop (uvloop not installed)", file=sys.stderr)
    asyncio.run(main(port, protocol))
