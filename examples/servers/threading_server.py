"""A thread per connection (threading): each thread blocks in recv() on its own socket.

The classic model of the write-ups: simple code, one OS thread and its stack per connection, and
the GIL letting one thread run Python at a time. In io-wait each thread blocks in psycopg2 on its
own database connection (kept for the thread's life, or one per request); in cpu each thread burns
its request's CPU, which the GIL keeps to one core at a time.
Usage: threading_server.py PORT echo|http (the scenario comes from CB_* variables, see scenario.py)
"""
import socket
import threading

import scenario
from blocking import work_for
from minihttp import serve_blocking


def main():
    scenario.start()
    work = work_for("per_thread")
    listener = socket.create_server(("127.0.0.1", scenario.PORT), backlog=4096)
    scenario.listening(listener.getsockname()[1])
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_blocking, args=(conn, scenario.PROTOCOL, work), daemon=True).start()


if __name__ == "__main__":
    main()
