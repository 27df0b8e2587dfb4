"""The protocol side shared by the Python examples, so each example shows only its concurrency model.

Echo sends every byte back. HTTP/1.1 follows the rules of the project's own parser
(servers/protocols/http.ts, and native/http-session.h in C), so these servers parse no lighter than
ours and answer the same bytes (test/integration/examples.test.ts feeds both the same requests):

- GET/HEAD / answers "Hello, World!", POST /echo its body, GET/HEAD /bytes/N N bytes of a..z
  (N up to 1 MiB, no leading zeros); a known path with another method 405, anything else 404;
  keep-alive (HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive) and pipelining.
- Every reply carries Server, Date, Content-Type, Connection and Content-Length, in that order.
- Lines end with CRLF: a bare LF or CR, obs-fold, whitespace before a colon or a control byte is 400.
- Exactly one Host in HTTP/1.1 (else 400); a major version other than 1 is 505.
- Content-Length is digits only, repeated only with the same value (else 400); Transfer-Encoding
  with Content-Length, or in HTTP/1.0, is 400 (request smuggling); chunked bodies are decoded, any
  other coding is 501; a head over 8 KiB is 431; a body over 16 MiB is 413. Each error closes.

A head is judged line by line as each line completes (ours judges byte by byte), so the one
difference is when a malformed line that never ends is answered: here only at 8 KiB.
"""
import re
import time
from email.utils import formatdate

MAX_HEAD = 8192
MAX_BODY = 16 * 1024 * 1024
MAX_BYTES_ROUTE = 1 << 20
HELLO = b"Hello, World!"

_TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_REQUEST = re.compile(_TCHAR + rb"+ [\x21-\x7e\x80-\xff]+ HTTP/[0-9]\.[0-9]")
_HEADER = re.compile(rb"(" + _TCHAR + rb"+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*")

# Reply kinds: status, body, extra header lines.
OK, NOT_FOUND, ROOT_405, ECHO_405, BAD, TOO_LARGE, HEAD_TOO_LARGE, NOT_IMPLEMENTED, BAD_VERSION = range(9)
ECHO, BYTES = 100, 101
_CANNED = [
    (b"200 OK", HELLO, b""),
    (b"404 Not Found", b"Not Found", b""),
    (b"405 Method Not Allowed", b"Method Not Allowed", b"Allow: GET, HEAD\r\n"),
    (b"405 Method Not Allowed", b"Method Not Allowed", b"Allow: POST\r\n"),
    (b"400 Bad Request", b"Bad Request", b""),
    (b"413 Content Too Large", b"Content Too Large", b""),
    (b"431 Request Header Fields Too Large", b"Request Header Fields Too Large", b""),
    (b"501 Not Implemented", b"Not Implemented", b""),
    (b"505 HTTP Version Not Supported", b"HTTP Version Not Supported", b""),
]


def bytes_body(n):
    """The body of GET /bytes/N: the same pattern as every model of ours."""
    return (b"abcdefghijklmnopqrstuvwxyz" * (n // 26 + 1))[:n]


class _Replies:
    """The canned replies of this second (they carry the Date), rebuilt when the second changes."""

    def __init__(self):
        self.second = -1

    def refresh(self):
        second = int(time.time())
        if second == self.second:
            return
        self.second = second
        self.date = formatdate(second, usegmt=True).encode("latin-1")
        self.canned = {}
        self.bytes = {}
        for kind, (status, body, extra) in enumerate(_CANNED):
            for close in (False, True):
                head = self.head(status, b"text/plain", extra, close) + b"%d\r\n\r\n" % len(body)
                self.canned[kind, close, False] = head + body
                self.canned[kind, close, True] = head

    def head(self, status, content_type, extra, close):
        return b"HTTP/1.1 %s\r\nServer: concurrency-bench\r\nDate: %s\r\nContent-Type: %s\r\n%sConnection: %s\r\nContent-Length: " % (
            status, self.date, content_type, extra, b"close" if close else b"keep-alive")

    def echo(self, body, close):
        return self.head(b"200 OK", b"application/octet-stream", b"", close) + b"%d\r\n\r\n" % len(body) + body

    def bytes_reply(self, n, close, omit):
        key = (n, close, omit)
        r = self.bytes.get(key)
        if r is None:
            r = self.head(b"200 OK", b"application/octet-stream", b"", close) + b"%d\r\n\r\n" % n + (b"" if omit else bytes_body(n))
            self.bytes[key] = r
        return r


REPLIES = _Replies()


def route(method, path):
    """The reply kind of a request, and N for /bytes/N."""
    get_or_head = method in (b"GET", b"HEAD")
    if path == b"/":
        return (OK if get_or_head else ROOT_405), 0
    if path == b"/echo":
        return (ECHO if method == b"POST" else ECHO_405), 0
    digits = path[7:]
    if path.startswith(b"/bytes/") and 1 <= len(digits) <= 7 and digits.isdigit():
        n = int(digits)
        if n > MAX_BYTES_ROUTE or (len(digits) > 1 and digits[0] == 0x30):
            return NOT_FOUND, 0
        return (BYTES if get_or_head else ROOT_405), n
    return NOT_FOUND, 0


class _Request:
    """What one request head asked for."""
    __slots__ = ("kind", "n", "omit", "http10", "length", "te", "chunked", "hosts", "close", "keep_alive")

    def __init__(self):
        self.length, self.te, self.chunked, self.hosts, self.close, self.keep_alive = -1, False, False, 0, False, False


def _request_line(line, r):
    """None when the request line is good (r is filled in), else the error kind."""
    if not _REQUEST.fullmatch(line):
        return BAD
    method, target, version = line.split(b" ")
    if version[5] != 0x31:
        return BAD_VERSION
    r.http10 = version[7] == 0x30
    r.omit = method == b"HEAD"
    q = target.find(b"?")
    r.kind, r.n = route(method, target if q < 0 else target[:q])
    return None


def _content_length(value, r):
    if not value.isdigit():
        return False
    n = 0
    for d in value:  # past the cap only "too large" matters: stop growing, as ours does
        if n <= MAX_BODY:
            n = n * 10 + d - 0x30
    if r.length >= 0 and r.length != n:
        return False
    r.length = n
    return True


def _header(line, r):
    """False when the header line is malformed; records the headers that change framing or keep-alive."""
    m = _HEADER.fullmatch(line)
    if m is None:
        return False
    name, value = m.group(1).lower(), m.group(2)
    if name == b"content-length":
        return _content_length(value, r)
    if name == b"connection":
        for option in value.split(b","):
            option = option.strip(b" \t").lower()
            r.close = r.close or option == b"close"
            r.keep_alive = r.keep_alive or option == b"keep-alive"
    elif name == b"host":
        r.hosts += 1
    elif name == b"transfer-encoding":
        # Only "chunked" alone, in one header, is what we decode; a list or a second header is 501.
        r.chunked = not r.te and b"," not in value and value.lower() == b"chunked"
        r.te = True
    return True


def parse_head(buf, start):
    """(head end, request) when complete; (None, None) while incomplete; (None, error kind)."""
    pos = start
    while buf.startswith(b"\r\n", pos):  # empty lines before a request line are skipped
        pos += 2
    limit = start + MAX_HEAD
    end = buf.find(b"\r\n\r\n", pos, limit)
    lines, bare_lf = (buf[pos:end].split(b"\r\n"), False) if end >= 0 else _complete_lines(buf, pos, limit)
    r = _Request()
    for i, line in enumerate(lines):
        error = _request_line(line, r) if i == 0 else (None if _header(line, r) else BAD)
        if error is not None:
            return None, error
    if bare_lf:
        return None, BAD
    if end < 0:
        return None, (HEAD_TOO_LARGE if len(buf) - start >= MAX_HEAD else None)
    if r.hosts > 1 or (r.hosts == 0 and not r.http10):
        return None, BAD
    return end + 4, r


def _complete_lines(buf, pos, limit):
    """The lines of an unfinished head that end (in CRLF) within the limit, and whether a bare LF
    ended the next one; the lines before it are judged first, as ours judges left to right."""
    lines = []
    while True:
        nl = buf.find(b"\n", pos, limit)
        if nl < 0:
            return lines, False
        if nl == pos or buf[nl - 1] != 0x0D:
            return lines, True
        lines.append(buf[pos:nl - 1])
        pos = nl + 1


class ChunkedDecoder:
    """Chunked transfer coding (RFC 9112 section 7.1), framing byte by byte, data in bulk: as chunked.ts."""
    SIZE, EXT, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER, TRAILER_LINE, TRAILER_LF, END_LF = range(10)

    def __init__(self):
        self.state, self.left, self.seen = self.SIZE, 0, 0

    def feed(self, buf, at, keep):
        """Consumes from buf[at:]; returns (where it stopped, "more" | "done" | error kind)."""
        while at < len(buf):
            if self.state == self.DATA:
                n = min(self.left, len(buf) - at)
                if keep is not None:
                    keep += buf[at:at + n]
                self.left -= n
                self.seen += n
                at += n
                if self.left == 0:
                    self.state = self.DATA_CR
                continue
            result = self.byte(buf[at])
            at += 1
            if result != "more":
                return at, result
        return at, "more"

    def byte(self, b):
        s = self.state
        if s == self.SIZE:
            h = b - 0x30 if 0x30 <= b <= 0x39 else (b | 0x20) - 0x57 if 0x61 <= (b | 0x20) <= 0x66 else -1
            if h >= 0:
                self.left = self.left * 16 + h
                return TOO_LARGE if self.seen + self.left > MAX_BODY else "more"
            if b in (0x3B, 0x20, 0x09):
                self.state = self.EXT
            elif b == 0x0D:
                self.state = self.SIZE_LF
            else:
                return BAD
        elif s == self.EXT:
            if b == 0x0D:
                self.state = self.SIZE_LF
            elif (b < 0x20 and b != 0x09) or b == 0x7F:
                return BAD
        elif s == self.SIZE_LF:
            if b != 0x0A:
                return BAD
            self.state = self.TRAILER if self.left == 0 else self.DATA
        elif s in (self.DATA_CR, self.DATA_LF):
            if b != (0x0D if s == self.DATA_CR else 0x0A):
                return BAD
            self.state = self.DATA_LF if s == self.DATA_CR else self.SIZE
        elif s == self.TRAILER:
            self.state = self.END_LF if b == 0x0D else self.TRAILER_LINE
        elif s == self.TRAILER_LINE:
            if b == 0x0D:
                self.state = self.TRAILER_LF
        elif s == self.TRAILER_LF:
            if b != 0x0A:
                return BAD
            self.state = self.TRAILER
        else:  # END_LF
            return "done" if b == 0x0A else BAD
        return "more"


class HttpSession:
    """Feed it bytes as they arrive; it returns the bytes to send and sets .close when it should."""

    def __init__(self):
        self.buf = b""  # a head split across reads
        self.close = False
        self.req = None  # the request whose body is being read
        self.left = 0  # Content-Length body bytes still to come
        self.body = None  # an echo body being kept (bytearray), else None
        self.chunks = None  # the ChunkedDecoder of a chunked body being read

    def feed(self, data):
        if self.close or not data:
            return b""
        REPLIES.refresh()
        out = []
        buf, at = (self.buf + data, 0) if self.buf else (data, 0)
        self.buf = b""
        if self.req is not None:
            at = self._body(buf, at, out)
        while not self.close and at < len(buf):
            end, r = parse_head(buf, at)
            if end is None and r is None:
                self.buf = buf[at:]
                break
            at = self._start(buf, end, r, out) if end is not None else self._fail(r, buf, out)
        return out[0] if len(out) == 1 else b"".join(out)

    def _fail(self, kind, buf, out):
        out.append(REPLIES.canned[kind, True, False])
        self.close = True
        return len(buf)

    def _start(self, buf, at, r, out):
        if r.te and (r.length >= 0 or r.http10):
            return self._fail(BAD, buf, out)
        if r.te and not r.chunked:
            return self._fail(NOT_IMPLEMENTED, buf, out)
        length = max(r.length, 0)
        if length > MAX_BODY:
            return self._fail(TOO_LARGE, buf, out)
        r.keep_alive = not r.close and (not r.http10 or r.keep_alive)
        self.req = r
        self.body = bytearray() if r.kind == ECHO else None
        if r.te:
            self.chunks = ChunkedDecoder()
        else:
            self.left = length
        return self._body(buf, at, out)

    def _body(self, buf, at, out):
        """Consumes body bytes of self.req; replies once the body is complete."""
        if self.chunks is not None:
            at, result = self.chunks.feed(buf, at, self.body)
            if result == "more":
                return at
            self.chunks = None
            if result != "done":
                return self._fail(result, buf, out)
        else:
            n = min(self.left, len(buf) - at)
            if self.body is not None:
                self.body += buf[at:at + n]
            self.left -= n
            at += n
            if self.left > 0:
                return at
        self._reply(out)
        return at

    def _reply(self, out):
        r, body = self.req, self.body
        self.req = self.body = None
        close = not r.keep_alive
        if r.kind == ECHO:
            out.append(REPLIES.echo(bytes(body), close))
        elif r.kind == BYTES:
            out.append(REPLIES.bytes_reply(r.n, close, r.omit))
        else:
            out.append(REPLIES.canned[r.kind, close, r.omit])
        self.close = close


class EchoSession:
    close = False

    def feed(self, data):
        return data


def session(protocol):
    return HttpSession() if protocol == "http" else EchoSession()


def serve_blocking(conn, protocol, work=None):
    """One connection with blocking calls until it ends: what threading_server.py runs in a thread
    per connection, multiprocessing_server.py in a process and gevent_server.py in a green thread
    (where the same calls yield instead). `work` runs before each reply: the scenario's wait or CPU."""
    s = session(protocol)
    with conn:
        while True:
            try:
                data = conn.recv(65536)
                if not data:
                    return
                out = s.feed(data)
                if out:
                    if work is not None:
                        work()
                    conn.sendall(out)
            except OSError:  # a reset by the client: the connection is over
                return
            except Exception:  # the work's backend failed, and said so (blocking.Fault)
                return
            if s.close:
                return
