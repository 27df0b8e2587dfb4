"""gevent: a green thread per connection; blocking-looking code, switched on an event loop (libev).

The standard library is monkey-patched, so the very function threading_server.py runs in a thread
(minihttp.serve_blocking) yields to the loop here instead of blocking. Usage: gevent_server.py PORT echo|http
"""
from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402
import sys  # noqa: E402

from gevent.server import StreamServer  # noqa: E402

from minihttp import serve_blocking  # noqa: E402


def make_handler(protocol):
    def serve(conn, _address):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        serve_blocking(conn, protocol)
    return serve


if __name__ == "__main__":
    port, protocol = int(sys.argv[1]), sys.argv[2]
    StreamServer(("127.0.0.1", port), make_handler(protocol), backlog=4096).serve_forever()
