/*
 * What every C server shares around its loop: the flags (--protocol, --port, --host), the
 * listening socket and the line that announces it, and the limit line. Each server includes this
 * once (static functions, no separate compilation).
 */
#ifndef CB_SERVER_COMMON_H
#define CB_SERVER_COMMON_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http-session.h"

struct server_args {
    const char *host;
    long port;
};

/* Parses the flags and sets the protocol up; 0, or -1 after a usage line on stderr. */
static int parse_server_args(const char *name, int argc, char **argv, struct server_args *a) {
    const char *protocol = NULL;
    a->host = "127.0.0.1";
    a->port = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--protocol")) protocol = argv[i + 1];
        else if (!strcmp(argv[i], "--port")) a->port = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--host")) a->host = argv[i + 1];
    }
    if (!protocol || (strcmp(protocol, "echo") && strcmp(protocol, "http")) || a->port < 0 || a->port > 65535) {
        fprintf(stderr, "%s: usage: %s --protocol echo|http --port N [--host 127.0.0.1]\n", name, name);
        return -1;
    }
    is_http = !strcmp(protocol, "http");
    init_tables();
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the Node process that started us */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Listens (non-blocking when asked) and prints the listening line; the socket, or -1. */
static int listen_and_announce(const char *name, const struct server_args *a, int nonblocking) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port)};
    if (inet_pton(AF_INET, a->host, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: --host must be an IPv4 address\n", name);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 4096) < 0) {
        fprintf(stderr, "%s: listen %s:%ld: %s\n", name, a->host, a->port, strerror(errno));
        return -1;
    }
    socklen_t alen = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &alen);
    printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%d,\"pid\":%d}\n", a->host, ntohs(addr.sin_port), (int)getpid());
    fflush(stdout);
    return fd;
}

static volatile sig_atomic_t stopping;

__attribute__((unused)) static void on_stop_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/*
 * SIGTERM and SIGINT set `stopping`, and stay blocked except inside the loop's wait (epoll_pwait,
 * or io_uring_enter with `waitmask`), so a stop is never missed between a check and a wait.
 */
__attribute__((unused)) static void block_stop_signals(sigset_t *waitmask) {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, waitmask);
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

/* A limit of the model's nature, as the Node models say it: one JSON line the harness records. */
__attribute__((unused)) static void print_limit_reason(const char *reason) {
    printf("{\"event\":\"limit\",\"reason\":\"%s\"}\n", reason);
    fflush(stdout);
}

#endif
