/*
 * The ceiling the TypeScript models are measured against: the same single-threaded, level-triggered
 * epoll loop as servers/models/epoll.ts, in C, serving the same echo and HTTP/1.1 bytes as
 * protocols/ (the HTTP parser below follows http.ts rule for rule: same replies, same header
 * order, same 400/413/431/501/505 cases, keep-alive, pipelining and Connection: close).
 *
 * Usage: epoll-server --protocol echo|http --port 0 [--host 127.0.0.1]
 * Prints {"event":"listening","host":...,"port":N,"pid":P} when ready; exits 0 on SIGTERM or SIGINT.
 * Build: cc -O2 -o native/build/epoll-server native/epoll-server.c (includes native/http-session.h)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server-common.h"

#define MAX_EVENTS 1024

static int ep;
static int listen_fd;
static struct conn **conns;
static int conns_cap;
static uint8_t rbuf[RECV_BYTES];

/* ---- connections (fd-loop.ts) ---- */

static void watch(int fd, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(ep, op, fd, &ev);
}

static void drop(struct conn *c) {
    close(c->fd); /* also leaves the epoll interest list */
    conns[c->fd] = NULL;
    free(c->head);
    free(c->body);
    free(c->out);
    free(c);
}

/* The last reply is out: shut the write side, read until the peer closes (see fd-loop.ts finish). */
static void finish(struct conn *c) {
    shutdown(c->fd, SHUT_WR);
    c->state = DRAINING;
}

/* Sends buf now; what the socket does not take is kept and the connection waits for writability. */
static void send_reply(struct conn *c, const uint8_t *buf, size_t len) {
    ssize_t sent = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (sent == (ssize_t)len) {
        if (c->closing) finish(c);
        return;
    }
    if (sent < 0) {
        if (errno != EAGAIN && errno != EINTR) { drop(c); return; }
        sent = 0;
    }
    size_t rest = len - (size_t)sent;
    if (rest > c->out_cap) {
        free(c->out);
        if (!(c->out = malloc(rest))) abort();
        c->out_cap = rest;
    }
    memcpy(c->out, buf + sent, rest);
    c->out_len = rest;
    c->out_at = 0;
    c->state = WRITING;
    watch(c->fd, EPOLLOUT, EPOLL_CTL_MOD);
}

static void flush_pending(struct conn *c) {
    size_t left = c->out_len - c->out_at;
    ssize_t sent = send(c->fd, c->out + c->out_at, left, MSG_NOSIGNAL);
    if (sent == (ssize_t)left) {
        c->out_len = c->out_at = 0;
        if (c->out_cap > RECV_BYTES) { /* a large reply: give the memory back */
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
        c->state = READING;
        watch(c->fd, EPOLLIN, EPOLL_CTL_MOD);
        if (c->closing) finish(c);
        return;
    }
    if (sent < 0) {
        if (errno != EAGAIN && errno != EINTR) drop(c);
        return;
    }
    c->out_at += (size_t)sent;
}

static void on_readable(struct conn *c) {
    ssize_t n = recv(c->fd, rbuf, RECV_BYTES, 0);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) drop(c);
        return;
    }
    if (c->state == DRAINING) return;
    if (!is_http) {
        send_reply(c, rbuf, (size_t)n);
        return;
    }
    tx_len = 0;
    http_feed(c, rbuf, (int)n);
    if (tx_len > 0) send_reply(c, tx, tx_len);
    else if (c->closing) finish(c);
}

static void accept_all(void) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == ECONNABORTED || errno == EINTR) continue;
            return;
        }
        if (fd >= conns_cap) {
            int cap = conns_cap ? conns_cap : 1024;
            while (cap <= fd) cap *= 2;
            conns = realloc(conns, sizeof *conns * (size_t)cap);
            if (!conns) abort();
            memset(conns + conns_cap, 0, sizeof *conns * (size_t)(cap - conns_cap));
            conns_cap = cap;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (!c) abort();
        c->fd = fd;
        c->state = READING;
        conns[fd] = c;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        watch(fd, EPOLLIN, EPOLL_CTL_ADD);
    }
}

int main(int argc, char **argv) {
    struct server_args args;
    if (parse_server_args("epoll-server", argc, argv, &args) < 0) return 2;

    sigset_t waitmask;
    block_stop_signals(&waitmask);

    ep = epoll_create1(EPOLL_CLOEXEC);
    listen_fd = listen_and_announce("epoll-server", &args, 1);
    if (listen_fd < 0) return 1;
    watch(listen_fd, EPOLLIN, EPOLL_CTL_ADD);

    static struct epoll_event events[MAX_EVENTS];
    while (!stopping) {
        int n = epoll_pwait(ep, events, MAX_EVENTS, -1, &waitmask);
        for (int k = 0; k < n; k++) {
            int fd = events[k].data.fd;
            if (fd == listen_fd) { accept_all(); continue; }
            struct conn *c = fd < conns_cap ? conns[fd] : NULL;
            if (!c) continue;
            if (c->state == WRITING) flush_pending(c);
            else on_readable(c);
        }
    }
    for (int fd = 0; fd < conns_cap; fd++)
        if (conns[fd]) drop(conns[fd]);
    close(listen_fd);
    close(ep);
    return 0;
}
