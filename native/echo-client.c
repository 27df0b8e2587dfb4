/*
 * The reference for the echo load generator, as wrk is for HTTP: the same closed loop as
 * clients/engine.ts (every connection keeps one message in flight, each echo checked byte for
 * byte), in C, so `npm run bench:clients` can say what our client costs against one without
 * Node's runtime. Closed loop only; no connect phase beyond a first exchange per connection.
 *
 * Usage: echo-client HOST PORT CONNECTIONS PAYLOAD_BYTES WARMUP_S DURATION_S
 * Prints one JSON line: {"ops":N,"durationS":S,"cpuS":S,"errors":N}
 * Build: cc -O2 -o native/build/echo-client native/echo-client.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    int got;          /* bytes of the message in flight echoed so far */
    unsigned char *msg;
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int send_all(int fd, const unsigned char *p, int n) {
    int off = 0;
    while (off < n) {
        ssize_t w = send(fd, p + off, n - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue; /* 64-byte messages: a full buffer is rare and short */
            return -1;
        }
        off += (int)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: echo-client HOST PORT CONNECTIONS PAYLOAD_BYTES WARMUP_S DURATION_S\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), n = atoi(argv[3]), size = atoi(argv[4]);
    double warmup = atof(argv[5]), duration = atof(argv[6]);
    if (port <= 0 || n <= 0 || size <= 0 || duration <= 0) {
        fprintf(stderr, "echo-client: PORT, CONNECTIONS, PAYLOAD_BYTES and DURATION_S must be positive\n");
        return 2;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "echo-client: bad host %s\n", host);
        return 2;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct conn *c = calloc(n, sizeof *c);
    unsigned char *rbuf = malloc(65536 > size ? 65536 : size);
    for (int i = 0; i < n; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c[i].fd < 0 || connect(c[i].fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            fprintf(stderr, "echo-client: connect %s:%d: %s\n", host, port, strerror(errno));
            return 2;
        }
        int one = 1;
        setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c[i].msg = malloc(size);
        for (int k = 0; k < size; k++) c[i].msg[k] = (unsigned char)(i * 31 + k * 7);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    for (int i = 0; i < n; i++) send_all(c[i].fd, c[i].msg, size);
    struct epoll_event events[1024];
    double start = now_s(), m_start = start + warmup, m_end = m_start + duration;
    double cpu_start = -1, t = start;
    long ops = 0, errors = 0, seq = 0;
    while (t < m_end) {
        int ready = epoll_wait(ep, events, 1024, 5);
        t = now_s();
        if (cpu_start < 0 && t >= m_start) cpu_start = cpu_s();
        for (int e = 0; e < ready; e++) {
            struct conn *k = &c[events[e].data.u32];
            ssize_t r = recv(k->fd, rbuf, 65536, 0);
            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                errors++;
                epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
                continue;
            }
            if (k->got + r > size || memcmp(rbuf, k->msg + k->got, r) != 0) {
                errors++;
                epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
                continue;
            }
            k->got += (int)r;
            if (k->got < size) continue;
            k->got = 0;
            if (t >= m_start) ops++;
            if (size >= 4) memcpy(k->msg, &seq, 4), seq++; /* each message differs, as in ours */
            if (send_all(k->fd, k->msg, size) < 0) errors++;
        }
    }
    double cpu = cpu_s() - (cpu_start < 0 ? cpu_s() : cpu_start);
    printf("{\"ops\":%ld,\"durationS\":%.6f,\"cpuS\":%.6f,\"errors\":%ld}\n", ops, t - m_start, cpu, errors);
    return 0;
}
