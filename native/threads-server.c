/*
 * A POSIX thread per connection, default stack size, blocking recv()/send(): what a thread per
 * connection costs the operating system, below Node (where every thread is a V8 isolate). The
 * ceiling of thread-per-connection; SIGTERM ends the process and with it every thread.
 *
 * Usage: threads-server --protocol echo|http --port 0 [--host 127.0.0.1]
 * Build: cc -O2 -pthread -o native/build/threads-server native/threads-server.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include "blocking-common.h"

static void *serve(void *arg) {
    serve_connection((int)(intptr_t)arg);
    return NULL;
}

int main(int argc, char **argv) {
    int listen_fd = start_listening("threads-server", argc, argv);
    if (listen_fd < 0) return 2;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept_next(listen_fd);
        if (fd < 0) return 1;
        pthread_t t;
        int err = pthread_create(&t, &attr, serve, (void *)(intptr_t)fd);
        if (err) {
            print_limit("pthread_create", err);
            close(fd);
        }
    }
}
