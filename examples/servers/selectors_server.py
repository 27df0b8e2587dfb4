"""One thread, non-blocking sockets and a selectors loop (epoll underneath on Linux).

What asyncio is built on, without the coroutines: the loop asks which sockets are ready and
serves each in turn. Usage: selectors_server.py PORT echo|http
"""
import selectors
import socket
import sys

from minihttp import session


def main():
    port, protocol = int(sys.argv[1]), sys.argv[2]
    sel = selectors.DefaultSelector()
    listener = socket.create_server(("127.0.0.1", port), backlog=4096)
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    pending = {}  # socket -> bytes not yet sent
    sessions = {}

    def drop(conn):
        sel.unregister(conn)
        pending.pop(conn, None)
        sessions.pop(conn, None)
        conn.close()

    while True:
        for key, events in sel.select():
            if key.data is None:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sessions[conn] = session(protocol)
                sel.register(conn, selectors.EVENT_READ, "conn")
                continue
            conn = key.fileobj
            if events & selectors.EVENT_WRITE:
                try:
                    sent = conn.send(pending[conn])
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:
                    drop(conn)
                    continue
                pending[conn] = pending[conn][sent:]
                if not pending[conn]:
                    del pending[conn]
                    if sessions[conn].close:
                        drop(conn)
                        continue
                    sel.modify(conn, selectors.EVENT_READ, "conn")
                continue
            try:
                data = conn.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                drop(conn)
                continue
            out = sessions[conn].feed(data)
            if out:
                try:
                    sent = conn.send(out)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                if sent < len(out):
                    pending[conn] = out[sent:]
                    sel.modify(conn, selectors.EVENT_READ | selectors.EVENT_WRITE, "conn")
                    continue
            if sessions[conn].close:
                drop(conn)


if __name__ == "__main__":
    main()
