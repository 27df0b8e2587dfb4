"""A thread pool with a task queue: an I/O thread reads requests, CB_WORKERS threads answer them.

The write-ups' thread pool (as waitress and Tomcat are built): one thread accepts and reads every
connection with a selector, and puts each complete request on a queue.Queue; a fixed set of worker
threads takes requests from it and runs the blocking part (psycopg2 on the worker's own database
connection, or the request's CPU) before sending the reply. So at most CB_WORKERS waits are in
flight, and the other requests queue: none is refused, each one waits its turn.
Usage: threadpool_server.py PORT echo|http (the scenario comes from CB_* variables)
"""
import queue
import selectors
import socket
import threading

import scenario
from blocking import work_for
from minihttp import session

tasks = queue.Queue()  # (connection, reply) waiting for a worker
done = queue.SimpleQueue()  # (connection, sent) back to the I/O thread
wake_r, wake_w = socket.socketpair()


def worker():
    work = work_for("per_thread")  # one database connection per worker thread
    while True:
        conn, reply = tasks.get()
        try:
            if work is not None:
                work()
            conn.sendall(reply)
            sent = True
        except Exception:  # a client gone, or a backend fault the work has reported
            sent = False
        done.put((conn, sent))
        wake_w.send(b"!")


def main():
    scenario.start()
    for _ in range(scenario.WORKERS):
        threading.Thread(target=worker, daemon=True).start()
    sel = selectors.DefaultSelector()
    listener = socket.create_server(("127.0.0.1", scenario.PORT), backlog=4096)
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    sessions = {}

    def drop(conn):
        sessions.pop(conn, None)
        conn.close()

    scenario.listening(listener.getsockname()[1])
    while True:
        for key, _ in sel.select():
            if key.data == "accept":
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(True)  # read only when ready; the worker's sendall may block
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sessions[conn] = session(scenario.PROTOCOL)
                sel.register(conn, selectors.EVENT_READ, "conn")
            elif key.data == "wake":
                wake_r.recv(4096)
                while True:
                    try:
                        conn, sent = done.get_nowait()
                    except queue.Empty:
                        break
                    if sent and not sessions[conn].close:
                        sel.register(conn, selectors.EVENT_READ, "conn")
                    else:
                        drop(conn)
            else:
                conn = key.fileobj
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(conn)
                    drop(conn)
                    continue
                reply = sessions[conn].feed(data)
                if reply:
                    sel.unregister(conn)  # not read again until its reply is sent, so replies keep their order
                    tasks.put((conn, reply))


if __name__ == "__main__":
    main()
