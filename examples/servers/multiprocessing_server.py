"""A process per connection (multiprocessing): each connection is served by its own process.

What the write-ups offer against the GIL: processes run Python on every core at once. The parent
accepts and starts a multiprocessing.Process (fork) for each connection, which serves it with
blocking calls and, in io-wait, its own psycopg2 connection (kept for the connection's life, or
one per request). Each process costs a fork and its own copy of the pages it writes.
Usage: multiprocessing_server.py PORT echo|http (the scenario comes from CB_* variables)
"""
import multiprocessing
import socket

import scenario
from blocking import work_for
from minihttp import serve_blocking

FORK = multiprocessing.get_context("fork")


def serve(listener, conn):
    listener.close()
    serve_blocking(conn, scenario.PROTOCOL, work_for("per_thread"))


def main():
    scenario.start()  # calibrated once, here: every child inherits the count
    listener = socket.create_server(("127.0.0.1", scenario.PORT), backlog=4096)
    scenario.listening(listener.getsockname()[1])
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        FORK.Process(target=serve, args=(listener, conn), daemon=True).start()
        conn.close()
        multiprocessing.active_children()  # reaps the children whose connections have ended


if __name__ == "__main__":
    main()
