/*
 * The HTTP/1.1 and echo session of the C servers, shared by epoll-server.c, threads-server.c and
 * fork-server.c: protocols/http.ts rule for rule (same replies, same header order, same
 * 400/413/431/501/505 cases, chunked request bodies, keep-alive, pipelining, Connection: close).
 * Feed it bytes with http_feed(); the replies of one read gather in tx (per thread) for one send.
 * Included once by each server (static functions, no separate compilation).
 */
#ifndef CB_HTTP_SESSION_H
#define CB_HTTP_SESSION_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECV_BYTES 65536
#define MAX_HEAD_BYTES 8192
#define MAX_BODY_BYTES (16L * 1024 * 1024)

enum { READING = 1, WRITING, DRAINING }; /* connection states of the epoll server, as in fd-loop.ts */

/* Reply kinds, indexed into CANNED; parse errors are returned as a negative kind. */
enum { HELLO, NOT_FOUND, ROOT_405, ECHO_405, BAD_REQUEST, TOO_LARGE, HEAD_TOO_LARGE, NOT_IMPLEMENTED, BAD_VERSION, NKINDS };
#define ECHO 100
#define BYTES 101 /* GET /bytes/N: N bytes of a..z repeated (http.ts bytesBody) */
#define MAX_BYTES_ROUTE (1 << 20)
#define INCOMPLETE 0
#define BODY_START_BYTES (16 * 1024)
enum { CH_SIZE = 1, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LINE, CH_TRAILER_LF, CH_END_LF };

static const struct { const char *status, *body, *extra; } CANNED[NKINDS] = {
    {"200 OK", "Hello, World!", ""},
    {"404 Not Found", "Not Found", ""},
    {"405 Method Not Allowed", "Method Not Allowed", "Allow: GET, HEAD\r\n"},
    {"405 Method Not Allowed", "Method Not Allowed", "Allow: POST\r\n"},
    {"400 Bad Request", "Bad Request", ""},
    {"413 Content Too Large", "Content Too Large", ""},
    {"431 Request Header Fields Too Large", "Request Header Fields Too Large", ""},
    {"501 Not Implemented", "Not Implemented", ""},
    {"505 HTTP Version Not Supported", "HTTP Version Not Supported", ""},
};

struct conn {
    int fd;
    int state;
    /* HTTP session */
    int closing;
    uint8_t *head; /* a head split across reads, MAX_HEAD_BYTES, allocated on first need */
    int head_len;
    long body_left;
    uint8_t *body; /* an echo body arriving over several reads, grown as it arrives */
    long body_at, body_cap;
    int keep_body;
    int chunk;          /* 0 outside a chunked body, else a CH_ state */
    long chunk_left, chunked_seen;
    /* the request being parsed */
    int bytes_n;
    int kind, omit_body, http10, transfer_encoding, te_chunked, hosts, conn_close, conn_keep_alive, keep_alive;
    long content_length;
    /* bytes still to send while WRITING */
    uint8_t *out;
    size_t out_len, out_at, out_cap;
};

static int is_http;

/* ---- replies, rebuilt when the second changes ---- */

/* Per thread (__thread): the thread-per-connection server runs this code in many threads at once. */
static __thread time_t cached_second = -1;
static __thread char replies[NKINDS][2][2][512]; /* [kind][close][omit body] */
static __thread int reply_len[NKINDS][2][2];
static __thread char echo_heads[2][192];
static __thread int echo_head_len[2];
static __thread char cached_date[64];
/* The body of every GET /bytes/N, a prefix of this; filled once by init_tables. */
static uint8_t bytes_pattern[MAX_BYTES_ROUTE];

static void refresh_replies(void) {
    time_t now = time(NULL);
    if (now == cached_second) return;
    struct tm tm;
    char date[64];
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    memcpy(cached_date, date, sizeof date);
    for (int k = 0; k < NKINDS; k++) {
        for (int close = 0; close < 2; close++) {
            int head = snprintf(replies[k][close][0], sizeof replies[k][close][0],
                                "HTTP/1.1 %s\r\nServer: concurrency-bench\r\nDate: %s\r\nContent-Type: text/plain\r\n"
                                "%sConnection: %s\r\nContent-Length: %zu\r\n\r\n",
                                CANNED[k].status, date, CANNED[k].extra, close ? "close" : "keep-alive", strlen(CANNED[k].body));
            memcpy(replies[k][close][1], replies[k][close][0], (size_t)head);
            reply_len[k][close][1] = head;
            reply_len[k][close][0] = head + (int)strlen(CANNED[k].body);
            strcat(replies[k][close][0], CANNED[k].body);
        }
    }
    for (int close = 0; close < 2; close++) {
        echo_head_len[close] = snprintf(echo_heads[close], sizeof echo_heads[close],
                                        "HTTP/1.1 200 OK\r\nServer: concurrency-bench\r\nDate: %s\r\n"
                                        "Content-Type: application/octet-stream\r\nConnection: %s\r\nContent-Length: ",
                                        date, close ? "close" : "keep-alive");
    }
    cached_second = now;
}

/* ---- the replies of one read, gathered before one send ---- */

static __thread uint8_t *tx;
static __thread size_t tx_len, tx_cap;

static void tx_put(const void *p, size_t n) {
    if (tx_len + n > tx_cap) {
        while (tx_len + n > tx_cap) tx_cap = tx_cap ? tx_cap * 2 : 65536;
        tx = realloc(tx, tx_cap);
        if (!tx) abort();
    }
    memcpy(tx + tx_len, p, n);
    tx_len += n;
}

/* ---- HTTP/1.1 request parsing (http.ts, rule for rule) ---- */

static uint8_t TCHAR[256], FIELD_BYTE[256];

static void init_tables(void) {
    const char *t = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (; *t; t++) TCHAR[(uint8_t)*t] = 1;
    for (int c = 0x20; c < 256; c++) FIELD_BYTE[c] = c != 0x7f;
    FIELD_BYTE['\t'] = 1;
    for (int i = 0; i < MAX_BYTES_ROUTE; i++) bytes_pattern[i] = (uint8_t)('a' + i % 26);
}

/* b[at, at+len) equals ref; with fold 0x20 ASCII case-insensitively against a lower-case ref. */
static int same(const uint8_t *b, int at, int len, const char *ref, int fold) {
    if ((size_t)len != strlen(ref)) return 0;
    for (int k = 0; k < len; k++)
        if ((b[at + k] | fold) != (uint8_t)ref[k]) return 0;
    return 1;
}

static int is_space(uint8_t c) { return c == ' ' || c == '\t'; }

static int route(struct conn *c, const uint8_t *b, int method, int method_len, int path, int path_len) {
    int get_or_head = same(b, method, method_len, "GET", 0) || same(b, method, method_len, "HEAD", 0);
    if (same(b, path, path_len, "/", 0)) return get_or_head ? HELLO : ROOT_405;
    if (same(b, path, path_len, "/echo", 0)) return same(b, method, method_len, "POST", 0) ? ECHO : ECHO_405;
    int digits = path_len - 7;
    if (digits >= 1 && digits <= 7 && same(b, path, 7, "/bytes/", 0)) {
        long n = 0;
        for (int i = path + 7; i < path + path_len; i++) {
            if (b[i] < '0' || b[i] > '9') return NOT_FOUND;
            n = n * 10 + (b[i] - '0');
        }
        if (n > MAX_BYTES_ROUTE || (digits > 1 && b[path + 7] == '0')) return NOT_FOUND;
        c->bytes_n = (int)n;
        return get_or_head ? BYTES : ROOT_405;
    }
    return NOT_FOUND;
}

static int read_content_length(struct conn *c, const uint8_t *b, int from, int to) {
    if (from == to) return 0;
    long n = 0;
    for (int i = from; i < to; i++) {
        int d = b[i] - '0';
        if (d < 0 || d > 9) return 0;
        if (n <= MAX_BODY_BYTES) n = n * 10 + d;
    }
    if (c->content_length >= 0 && c->content_length != n) return 0;
    c->content_length = n;
    return 1;
}

static void read_connection(struct conn *c, const uint8_t *b, int from, int to) {
    for (int i = from; i < to;) {
        int s = i, e = i;
        while (e < to && b[e] != ',') e++;
        i = e + 1;
        while (s < e && is_space(b[s])) s++;
        while (e > s && is_space(b[e - 1])) e--;
        if (same(b, s, e - s, "close", 0x20)) c->conn_close = 1;
        else if (same(b, s, e - s, "keep-alive", 0x20)) c->conn_keep_alive = 1;
    }
}

static int apply_header(struct conn *c, const uint8_t *b, int name, int name_len, int from, int to) {
    if (name_len == 14 && same(b, name, name_len, "content-length", 0x20)) return read_content_length(c, b, from, to);
    if (name_len == 10 && same(b, name, name_len, "connection", 0x20)) read_connection(c, b, from, to);
    else if (name_len == 4 && same(b, name, name_len, "host", 0x20)) c->hosts++;
    else if (name_len == 17 && same(b, name, name_len, "transfer-encoding", 0x20)) {
        /* only "chunked" alone is decoded; a second header joins the list (http.ts applyHeader) */
        int s = to;
        while (s > from && b[s - 1] != ',') s--;
        while (s < to && is_space(b[s])) s++;
        int only = !c->transfer_encoding && s == from;
        c->te_chunked = only && same(b, s, to - s, "chunked", 0x20);
        c->transfer_encoding = 1;
    }
    return 1;
}

static int parse_request_line(struct conn *c, const uint8_t *b, int start, int end) {
    int i = start;
    while (i < end && TCHAR[b[i]]) i++;
    if (i == end) return INCOMPLETE;
    if (i == start || b[i] != ' ') return -BAD_REQUEST;
    int method_len = i - start;
    int target = ++i, path_end = -1;
    for (; i < end && b[i] > ' ' && b[i] != 0x7f; i++)
        if (b[i] == '?' && path_end < 0) path_end = i;
    if (i == end) return INCOMPLETE;
    if (i == target || b[i] != ' ') return -BAD_REQUEST;
    int version = i + 1;
    static const char pattern[] = "HTTP/#.#\r\n";
    for (int k = 0; k < 10; k++) {
        if (version + k >= end) return INCOMPLETE;
        uint8_t ch = b[version + k];
        if (pattern[k] == '#' ? ch < '0' || ch > '9' : ch != (uint8_t)pattern[k]) return -BAD_REQUEST;
    }
    if (b[version + 5] != '1') return -BAD_VERSION;
    c->http10 = b[version + 7] == '0';
    c->omit_body = same(b, start, method_len, "HEAD", 0);
    c->kind = route(c, b, start, method_len, target, (path_end < 0 ? i : path_end) - target);
    return version + 10;
}

static int parse_header_line(struct conn *c, const uint8_t *b, int start, int end) {
    int i = start;
    while (i < end && TCHAR[b[i]]) i++;
    if (i == end) return INCOMPLETE;
    if (i == start || b[i] != ':') return -BAD_REQUEST;
    int name_len = i - start;
    i++;
    while (i < end && is_space(b[i])) i++;
    int value_start = i;
    for (; i < end && b[i] != '\r'; i++)
        if (!FIELD_BYTE[b[i]]) return -BAD_REQUEST;
    if (i + 1 >= end) return INCOMPLETE;
    if (b[i + 1] != '\n') return -BAD_REQUEST;
    int value_end = i;
    while (value_end > value_start && is_space(b[value_end - 1])) value_end--;
    return apply_header(c, b, start, name_len, value_start, value_end) ? i + 2 : -BAD_REQUEST;
}

/* Head length when complete, INCOMPLETE, or a negative reply kind. */
static int parse_head(struct conn *c, const uint8_t *b, int start, int end) {
    c->content_length = -1;
    c->transfer_encoding = c->te_chunked = c->conn_close = c->conn_keep_alive = 0;
    c->hosts = 0;
    int line = start;
    while (line + 1 < end && b[line] == '\r' && b[line + 1] == '\n') line += 2; /* empty lines before a request */
    if (line < end && b[line] == '\r' && line + 1 >= end) return INCOMPLETE;
    int i = parse_request_line(c, b, line, end);
    while (i > 0) {
        if (i >= end) return INCOMPLETE;
        if (b[i] == '\r') {
            if (i + 1 >= end) return INCOMPLETE;
            if (b[i + 1] != '\n') return -BAD_REQUEST;
            if (c->hosts > 1 || (c->hosts == 0 && !c->http10)) return -BAD_REQUEST;
            return i + 2 - start;
        }
        i = parse_header_line(c, b, i, end);
    }
    return i;
}

static void reply(struct conn *c, const uint8_t *body, long body_len) {
    int close = !c->keep_alive;
    if (c->kind == BYTES) {
        char head[256];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nServer: concurrency-bench\r\nDate: %s\r\nContent-Type: application/octet-stream\r\n"
                         "Connection: %s\r\nContent-Length: %d\r\n\r\n",
                         cached_date, close ? "close" : "keep-alive", c->bytes_n);
        tx_put(head, (size_t)n);
        if (!c->omit_body) tx_put(bytes_pattern, (size_t)c->bytes_n);
    } else if (c->kind != ECHO) {
        tx_put(replies[c->kind][close][c->omit_body], (size_t)reply_len[c->kind][close][c->omit_body]);
    } else {
        char digits[24];
        int n = snprintf(digits, sizeof digits, "%ld\r\n\r\n", body_len);
        tx_put(echo_heads[close], (size_t)echo_head_len[close]);
        tx_put(digits, (size_t)n);
        tx_put(body, (size_t)body_len);
    }
    if (close) c->closing = 1;
}

static int fail(struct conn *c, int kind, int len) {
    tx_put(replies[kind][1][0], (size_t)reply_len[kind][1][0]);
    c->closing = 1;
    return len;
}

/* Keeps data[at, at + n) of an echo body, growing its buffer as bytes arrive (http.ts keep). */
static void keep(struct conn *c, const uint8_t *data, int at, long n, long at_least) {
    if (!c->keep_body || n == 0) return;
    long need = c->body_at + n;
    if (!c->body || c->body_cap < need) {
        long grow = c->body_cap * 2 > BODY_START_BYTES ? c->body_cap * 2 : BODY_START_BYTES;
        if (grow > at_least) grow = at_least;
        if (grow < need) grow = need;
        if (!(c->body = realloc(c->body, (size_t)grow))) abort();
        c->body_cap = grow;
    }
    memcpy(c->body + c->body_at, data + at, (size_t)n);
    c->body_at += n;
}

static void reply_body(struct conn *c) {
    reply(c, c->body, c->body_at);
    free(c->body);
    c->body = NULL;
    c->body_at = c->body_cap = 0;
}

/* Consumes Content-Length body bytes (kept only for echo) and replies once the body is complete. */
static int take_body(struct conn *c, const uint8_t *data, int len, int at) {
    long n = c->body_left < len - at ? c->body_left : len - at;
    keep(c, data, at, n, c->body_at + c->body_left);
    c->body_left -= n;
    if (c->body_left == 0) reply_body(c);
    return at + (int)n;
}

/* One framing byte of a chunked body; 0, or the reply kind that ends the connection (http.ts chunkByte). */
static int chunk_byte(struct conn *c, uint8_t b) {
    switch (c->chunk) {
    case CH_SIZE: {
        int l = b | 0x20;
        int h = b >= '0' && b <= '9' ? b - '0' : l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
        if (h >= 0) {
            c->chunk_left = c->chunk_left * 16 + h;
            return c->chunked_seen + c->chunk_left > MAX_BODY_BYTES ? TOO_LARGE : 0;
        }
        if (b == ';' || b == ' ' || b == '\t') c->chunk = CH_EXT;
        else if (b == '\r') c->chunk = CH_SIZE_LF;
        else return BAD_REQUEST;
        return 0;
    }
    case CH_EXT:
        if (b == '\r') c->chunk = CH_SIZE_LF;
        else if (!FIELD_BYTE[b]) return BAD_REQUEST;
        return 0;
    case CH_SIZE_LF:
        if (b != '\n') return BAD_REQUEST;
        c->chunk = c->chunk_left == 0 ? CH_TRAILER : CH_DATA;
        return 0;
    case CH_DATA_CR:
        if (b != '\r') return BAD_REQUEST;
        c->chunk = CH_DATA_LF;
        return 0;
    case CH_DATA_LF:
        if (b != '\n') return BAD_REQUEST;
        c->chunk = CH_SIZE;
        return 0;
    case CH_TRAILER:
        c->chunk = b == '\r' ? CH_END_LF : CH_TRAILER_LINE;
        return 0;
    case CH_TRAILER_LINE:
        if (b == '\r') c->chunk = CH_TRAILER_LF;
        return 0;
    case CH_TRAILER_LF:
        if (b != '\n') return BAD_REQUEST;
        c->chunk = CH_TRAILER;
        return 0;
    case CH_END_LF:
        if (b != '\n') return BAD_REQUEST;
        c->chunk = 0;
        reply_body(c);
        return 0;
    default:
        return BAD_REQUEST;
    }
}

/* Consumes a chunked body: sizes and trailers byte by byte, chunk data in bulk. */
static int take_chunked(struct conn *c, const uint8_t *data, int len, int at) {
    while (at < len && c->chunk != 0) {
        if (c->chunk == CH_DATA) {
            long n = c->chunk_left < len - at ? c->chunk_left : len - at;
            keep(c, data, at, n, MAX_BODY_BYTES);
            c->chunked_seen += n;
            c->chunk_left -= n;
            at += (int)n;
            if (c->chunk_left == 0) c->chunk = CH_DATA_CR;
            continue;
        }
        int kind = chunk_byte(c, data[at++]);
        if (kind) return fail(c, kind, len);
    }
    return at;
}

static int start_request(struct conn *c, const uint8_t *data, int len, int at) {
    if (c->transfer_encoding) {
        if (c->content_length >= 0 || c->http10) return fail(c, BAD_REQUEST, len);
        if (!c->te_chunked) return fail(c, NOT_IMPLEMENTED, len);
    }
    long length = c->content_length < 0 ? 0 : c->content_length;
    if (length > MAX_BODY_BYTES) return fail(c, TOO_LARGE, len);
    c->keep_alive = !c->conn_close && (!c->http10 || c->conn_keep_alive);
    c->keep_body = c->kind == ECHO;
    c->body_at = 0;
    if (c->transfer_encoding) {
        c->chunk = CH_SIZE;
        c->chunk_left = c->chunked_seen = 0;
        return take_chunked(c, data, len, at);
    }
    if (c->keep_body && length > 0 && len - at >= length) {
        reply(c, data + at, length); /* the whole body is here: no copy */
        return at + (int)length;
    }
    c->body_left = length;
    return take_body(c, data, len, at);
}

static int resume_head(struct conn *c, const uint8_t *data, int len) {
    int before = c->head_len;
    int n = len < MAX_HEAD_BYTES - before ? len : MAX_HEAD_BYTES - before;
    memcpy(c->head + before, data, (size_t)n);
    c->head_len += n;
    int r = parse_head(c, c->head, 0, c->head_len);
    if (r > 0) {
        c->head_len = 0;
        return start_request(c, data, len, r - before);
    }
    if (r < 0) return fail(c, -r, len);
    return c->head_len == MAX_HEAD_BYTES ? fail(c, HEAD_TOO_LARGE, len) : len;
}

static int parse_at(struct conn *c, const uint8_t *data, int len, int at) {
    int r = parse_head(c, data, at, len < at + MAX_HEAD_BYTES ? len : at + MAX_HEAD_BYTES);
    if (r > 0) return start_request(c, data, len, at + r);
    if (r < 0) return fail(c, -r, len);
    if (len - at >= MAX_HEAD_BYTES) return fail(c, HEAD_TOO_LARGE, len);
    if (!c->head && !(c->head = malloc(MAX_HEAD_BYTES))) abort();
    memcpy(c->head, data + at, (size_t)(len - at));
    c->head_len = len - at;
    return len;
}

/* Appends the replies to `data` to tx (http.ts feed()). */
static void http_feed(struct conn *c, const uint8_t *data, int len) {
    if (c->closing) return;
    refresh_replies();
    int at = 0;
    if (c->chunk != 0) at = take_chunked(c, data, len, 0);
    else if (c->body_left > 0) at = take_body(c, data, len, 0);
    else if (c->head_len > 0) at = resume_head(c, data, len);
    while (!c->closing && at < len) at = parse_at(c, data, len, at);
}

#endif
