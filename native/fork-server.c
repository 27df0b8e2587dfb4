/*
 * fork() per connection: the child serves it with blocking recv()/send() and exits. What a process
 * per connection costs the operating system, below Node (where every process is a whole runtime).
 * The ceiling of process-per-connection. Children are reaped by the kernel (SA_NOCLDWAIT) and
 * stay in the process group, so the harness ends them with it.
 *
 * Usage: fork-server --protocol echo|http --port 0 [--host 127.0.0.1]
 * Build: cc -O2 -o native/build/fork-server native/fork-server.c
 */
#include "blocking-common.h"

int main(int argc, char **argv) {
    int listen_fd = start_listening("fork-server", argc, argv);
    if (listen_fd < 0) return 2;
    struct sigaction sa = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    for (;;) {
        int fd = accept_next(listen_fd);
        if (fd < 0) return 1;
        pid_t pid = fork();
        if (pid == 0) {
            close(listen_fd);
            serve_connection(fd);
            _exit(0);
        }
        if (pid < 0) print_limit("fork", errno);
        close(fd);
    }
}
