/*
 * What the two blocking C servers (threads-server.c, fork-server.c) share: flags, the listening
 * socket and line, and serving one connection with blocking recv()/send() until it ends.
 */
#ifndef CB_BLOCKING_COMMON_H
#define CB_BLOCKING_COMMON_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http-session.h"

static int send_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One connection, blocking: recv, answer, until the peer closes or the session says close. */
static void serve_connection(int fd) {
    struct conn *c = calloc(1, sizeof *c);
    uint8_t *buf = malloc(RECV_BYTES);
    if (!c || !buf) abort();
    c->fd = fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        ssize_t n = recv(fd, buf, RECV_BYTES, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (!is_http) {
            if (send_all(fd, buf, (size_t)n) < 0) break;
            continue;
        }
        tx_len = 0;
        http_feed(c, buf, (int)n);
        if (tx_len > 0 && send_all(fd, tx, tx_len) < 0) break;
        if (c->closing) {
            /* the last reply is out: let the peer read it before the close (fd-loop.ts finish) */
            shutdown(fd, SHUT_WR);
            while (recv(fd, buf, RECV_BYTES, 0) > 0) {}
            break;
        }
    }
    close(fd);
    free(c->head);
    free(c->body);
    free(c);
    free(buf);
}

/* A limit of the model's nature (no thread or process could be started), as the Node models say it. */
static void print_limit(const char *what, int err) {
    printf("{\"event\":\"limit\",\"reason\":\"%s failed: %s\"}\n", what, strerror(err));
    fflush(stdout);
}

/* The next connection, blocking; -1 when accept() failed for good. A lack of descriptors is a limit
 * of the model's nature: reported, then tried again a moment later. */
static int accept_next(int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) return fd;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EMFILE && errno != ENFILE) return -1;
        print_limit("accept", errno);
        usleep(10000);
    }
}

/* Parses the flags, listens, prints the listening line; returns the listening socket or -1. */
static int start_listening(const char *name, int argc, char **argv) {
    const char *protocol = NULL, *host = "127.0.0.1";
    long port = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--protocol")) protocol = argv[i + 1];
        else if (!strcmp(argv[i], "--port")) port = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    }
    if (!protocol || (strcmp(protocol, "echo") && strcmp(protocol, "http")) || port < 0 || port > 65535) {
        fprintf(stderr, "%s: usage: %s --protocol echo|http --port N [--host 127.0.0.1]\n", name, name);
        return -1;
    }
    is_http = !strcmp(protocol, "http");
    init_tables();
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the Node process that started us */
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: --host must be an IPv4 address\n", name);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 4096) < 0) {
        fprintf(stderr, "%s: listen %s:%ld: %s\n", name, host, port, strerror(errno));
        return -1;
    }
    socklen_t alen = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &alen);
    printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%d,\"pid\":%d}\n", host, ntohs(addr.sin_port), (int)getpid());
    fflush(stdout);
    return fd;
}

#endif
