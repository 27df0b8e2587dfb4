"""The protocol side shared by the Python examples, so each example shows only its concurrency model.

Echo sends every byte back. HTTP/1.1 answers GET / with "Hello, World!", POST /echo with its body
and anything else with 404 "Not Found", with keep-alive (HTTP/1.1 unless Connection: close) and
pipelining: the same routes and bytes the harness checks on every model. Bodies are framed by
Content-Length only; this is an example, not a web server.
"""

HELLO = b"Hello, World!"


def reply(status, body, close):
    head = "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n" % (
        status, len(body), "close" if close else "keep-alive")
    return head.encode("latin-1") + body


class HttpSession:
    """Feed it bytes as they arrive; it returns the bytes to send and sets .close when it should."""

    def __init__(self):
        self.buf = b""
        self.close = False

    def feed(self, data):
        self.buf += data
        out = []
        while not self.close:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                out.append(reply("400 Bad Request", b"Bad Request", True))
                self.close = True
                break
            method, path, version = parts
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buf) < end + 4 + length:
                break
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            conn = headers.get("connection", "").lower()
            close = "close" in conn or (version == "HTTP/1.0" and "keep-alive" not in conn)
            if path == "/" and method in ("GET", "HEAD"):
                out.append(reply("200 OK", HELLO, close))
            elif path == "/echo" and method == "POST":
                out.append(reply("200 OK", body, close))
            else:
                out.append(reply("404 Not Found", b"Not Found", close))
            self.close = close
        return b"".join(out)


class EchoSession:
    close = False

    def feed(self, data):
        return data


def session(protocol):
    return HttpSession() if protocol == "http" else EchoSession()


def serve_blocking(conn, protocol):
    """One connection with blocking calls until it ends: what threading_server.py runs in a thread
    per connection, and gevent_server.py in a green thread (where the same calls yield instead)."""
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
