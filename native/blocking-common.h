/*
 * What the two blocking C servers (threads-server.c, fork-server.c) share: a blocking listener
 * (server-common.h) and serving one connection with blocking recv()/send() until it ends.
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
#include "server-common.h"

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
    char reason[256];
    snprintf(reason, sizeof reason, "%s failed: %s", what, strerror(err));
    print_limit_reason(reason);
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

/* Parses the flags, listens (blocking), prints the listening line; returns the listening socket or -1. */
static int start_listening(const char *name, int argc, char **argv) {
    struct server_args a;
    if (parse_server_args(name, argc, argv, &a) < 0) return -1;
    return listen_and_announce(name, &a, 0);
}

#endif
