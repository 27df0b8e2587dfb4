"""gevent: a green thread per connection; blocking-looking code, switched on an event loop (libev).

The standard library is monkey-patched, and psycogreen makes psycopg2 cooperative (its wait
callback parks the green thread on gevent's hub while the query is out), so the very code that
threading_server.py runs in a thread per connection (minihttp.serve_blocking, blocking.py) yields
to the loop here instead of blocking. Many waits are held on one OS thread; the database
connections are a pool of CB_DB_POOL shared by the green threads, as a gevent program keeps them.
Usage: gevent_server.py PORT echo|http (the scenario comes from CB_* variables, see scenario.py)
"""
from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402

import scenario  # noqa: E402
from blocking import work_for  # noqa: E402
from gevent.server import StreamServer  # noqa: E402
from minihttp import serve_blocking  # noqa: E402

if scenario.BACKEND == "postgres":
    from psycogreen.gevent import patch_psycopg  # python3-psycogreen

    patch_psycopg()


def make_handler(work):
    def serve(conn, _address):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        serve_blocking(conn, scenario.PROTOCOL, work)
    return serve


if __name__ == "__main__":
    scenario.start()
    server = StreamServer(("127.0.0.1", scenario.PORT), make_handler(work_for("pool")), backlog=4096)
    server.start()
    scenario.listening(server.server_port)
    server.serve_forever()
