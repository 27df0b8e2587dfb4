"""A thread per connection (threading): each thread blocks in recv() on its own socket.

The classic model of the write-ups: simple code, one OS thread and its stack per connection, and
the GIL letting one thread run Python at a time. Usage: threading_server.py PORT echo|http
"""
import socket
import sys
import threading

from minihttp import serve_blocking


def main():
    port, protocol = int(sys.argv[1]), sys.argv[2]
    listener = socket.create_server(("127.0.0.1", port), backlog=4096, reuse_port=False)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_blocking, args=(conn, protocol), daemon=True).start()


if __name__ == "__main__":
    main()
