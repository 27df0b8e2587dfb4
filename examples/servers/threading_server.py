"""A thread per connection (threading): each thread blocks in recv() on its own socket.

The classic model of the write-ups: simple code, one OS thread and its stack per connection, and
the GIL letting one thread run Python at a time. Usage: threading_server.py PORT echo|http
"""
import socket
import sys
import threading

from minihttp import session


def serve(conn, protocol):
    s = session(protocol)
    with conn:
        while True:
            try:
                data = conn.recv(65536)
                if not data:
                    return
                out = s.feed(data)
                if out:
                    conn.sendall(out)
            except OSError:  # a reset by the client: the connection is over
                return
            if s.close:
                return


def main():
    port, protocol = int(sys.argv[1]), sys.argv[2]
    listener = socket.create_server(("127.0.0.1", port), backlog=4096, reuse_port=False)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn, protocol), daemon=True).start()


if __name__ == "__main__":
    main()
