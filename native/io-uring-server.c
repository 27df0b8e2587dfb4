/*
 * The ceiling of servers/models/io-uring.ts: the same completion-based loop in C, on raw syscalls
 * (no liburing; the kernel's <linux/io_uring.h> for the shapes only), serving the same echo and
 * HTTP/1.1 bytes through native/http-session.h. The same choices as the TypeScript model:
 * multishot accept, multishot recv into a provided-buffer ring of BUFFERS x BUFFER_BYTES, one send
 * in flight per connection (an echo sent from the buffer it arrived in when nothing else is
 * queued), DEFER_TASKRUN and SINGLE_ISSUER when the kernel has them, and the connection's
 * descriptor and generation in user_data so late completions of a closed connection are known.
 *
 * Memory ordering: the CQ tail and SQ head (the kernel writes them) are read with acquire loads,
 * the SQ tail, CQ head and buffer-ring tail (we write them) published with release stores; on x86
 * these are plain moves, on arm64 ldar/stlr.
 *
 * Usage: io-uring-server --protocol echo|http --port 0 [--host 127.0.0.1]
 * Prints {"event":"listening",...} when ready, or {"event":"limit","reason":...} and exits 1 when
 * io_uring is missing or refused. Exits 0 on SIGTERM or SIGINT.
 * Build: cc -O2 -o native/build/io-uring-server native/io-uring-server.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server-common.h"

#define RING_ENTRIES 4096
#define BUFFERS 1024
#define BUFFER_BYTES (16 * 1024)
#define GROUP 0
#define K_ACCEPT 1
#define K_RECV 2
#define K_SEND 3
#define GEN_MASK 0x0fffffffu
/* Flags a newer kernel understands; the header on the build machine may be older. */
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

struct uconn {
    struct conn c; /* the HTTP session; c.out/out_len hold the send in flight */
    uint32_t gen;
    int sending;
    int send_bid; /* the provided buffer the send in flight comes from, or -1 */
    const uint8_t *send_ptr;
    size_t send_len, send_at;
    uint8_t *pend; /* replies queued behind the send in flight */
    size_t pend_len, pend_cap;
};

static int ring_fd, listen_fd;
static uint32_t *sq_head, *sq_tail, sq_mask, sq_entries, local_tail;
static uint32_t *cq_head, *cq_tail, cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static struct io_uring_buf_ring *br;
static uint8_t *slab;
static uint16_t br_tail;
static int br_dirty, accepting;
static struct uconn **conns;
static uint32_t *gens;
/* A connection ended with a send in flight from a provided buffer: the buffer comes back with that send's stale completion. */
static int *stale_bid;
static uint32_t *stale_gen;
static int conns_cap;
static sigset_t waitmask;

static int enter(unsigned submit, unsigned min, unsigned flags, void *arg, size_t argsz) {
    return (int)syscall(__NR_io_uring_enter, ring_fd, submit, min, flags, arg, argsz);
}

static unsigned pending;

static struct io_uring_sqe *sqe(void) {
    if (local_tail - __atomic_load_n(sq_head, __ATOMIC_ACQUIRE) >= sq_entries) {
        __atomic_store_n(sq_tail, local_tail, __ATOMIC_RELEASE);
        enter(pending, 0, IORING_ENTER_GETEVENTS, NULL, 0);
        pending = 0;
    }
    struct io_uring_sqe *s = &sqes[local_tail & sq_mask];
    memset(s, 0, sizeof *s);
    local_tail++;
    pending++;
    return s;
}

static void give_buffer(int bid) {
    struct io_uring_buf *b = &br->bufs[br_tail & (BUFFERS - 1)];
    b->addr = (uint64_t)(uintptr_t)(slab + (size_t)bid * BUFFER_BYTES);
    b->len = BUFFER_BYTES;
    b->bid = (uint16_t)bid;
    br_tail++;
    br_dirty = 1;
}

static void arm_accept(void) {
    struct io_uring_sqe *s = sqe();
    s->opcode = IORING_OP_ACCEPT;
    s->fd = listen_fd;
    s->accept_flags = SOCK_CLOEXEC;
    s->ioprio = IORING_ACCEPT_MULTISHOT;
    s->user_data = (uint64_t)K_ACCEPT << 32;
    accepting = 1;
}

static void arm_recv(int fd) {
    struct io_uring_sqe *s = sqe();
    s->opcode = IORING_OP_RECV;
    s->fd = fd;
    s->flags = IOSQE_BUFFER_SELECT;
    s->buf_group = GROUP;
    s->ioprio = IORING_RECV_MULTISHOT;
    s->user_data = ((uint64_t)(K_RECV | (gens[fd] << 4)) << 32) | (uint32_t)fd;
}

static void submit_send(struct uconn *u) {
    struct io_uring_sqe *s = sqe();
    s->opcode = IORING_OP_SEND;
    s->fd = u->c.fd;
    s->addr = (uint64_t)(uintptr_t)(u->send_ptr + u->send_at);
    s->len = (uint32_t)(u->send_len - u->send_at);
    s->msg_flags = MSG_NOSIGNAL;
    s->user_data = ((uint64_t)(K_SEND | (u->gen << 4)) << 32) | (uint32_t)u->c.fd;
    u->sending = 1;
}

static void grow(uint8_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    if (!(*p = realloc(*p, c))) abort();
    *cap = c;
}

/* Sends bytes now when nothing is in flight (from a provided buffer: `bid`), else queues a copy. */
static void send_bytes(struct uconn *u, const uint8_t *p, size_t n, int bid) {
    if (!u->sending) {
        if (bid < 0) { /* tx is reused by the next feed: the bytes in flight need a home */
            grow(&u->c.out, &u->c.out_cap, n);
            memcpy(u->c.out, p, n);
            p = u->c.out;
        }
        u->send_ptr = p;
        u->send_len = n;
        u->send_at = 0;
        u->send_bid = bid;
        submit_send(u);
        return;
    }
    grow(&u->pend, &u->pend_cap, u->pend_len + n);
    memcpy(u->pend + u->pend_len, p, n);
    u->pend_len += n;
    if (bid >= 0) give_buffer(bid);
}

static void end(int fd) {
    struct uconn *u = conns[fd];
    if (!u) return;
    /* A send still in flight returns its buffer when its (stale) completion arrives. */
    conns[fd] = NULL;
    gens[fd] = (gens[fd] + 1) & GEN_MASK;
    shutdown(fd, SHUT_RDWR); /* the armed recv completes at once, as a stale completion */
    close(fd);
    if (u->sending && u->send_bid >= 0) {
        stale_bid[fd] = u->send_bid;
        stale_gen[fd] = u->gen;
    }
    if (u->sending && u->send_bid < 0) {
        /* The kernel may still read c.out: leak it rather than free memory in use (rare: a reset mid-send). */
        u->c.out = NULL;
    }
    free(u->c.head);
    free(u->c.body);
    free(u->c.out);
    free(u->pend);
    free(u);
}

static void finish(struct uconn *u) {
    if (u->c.state != READING || u->sending) return;
    shutdown(u->c.fd, SHUT_WR);
    u->c.state = DRAINING;
}

static void open_conn(int fd) {
    if (fd >= conns_cap) {
        int cap = conns_cap ? conns_cap : 1024;
        while (cap <= fd) cap *= 2;
        conns = realloc(conns, sizeof *conns * (size_t)cap);
        gens = realloc(gens, sizeof *gens * (size_t)cap);
        stale_bid = realloc(stale_bid, sizeof *stale_bid * (size_t)cap);
        stale_gen = realloc(stale_gen, sizeof *stale_gen * (size_t)cap);
        if (!conns || !gens || !stale_bid || !stale_gen) abort();
        memset(conns + conns_cap, 0, sizeof *conns * (size_t)(cap - conns_cap));
        memset(gens + conns_cap, 0, sizeof *gens * (size_t)(cap - conns_cap));
        for (int k = conns_cap; k < cap; k++) stale_bid[k] = -1;
        conns_cap = cap;
    }
    struct uconn *u = calloc(1, sizeof *u);
    if (!u) abort();
    u->c.fd = fd;
    u->c.state = READING;
    u->gen = gens[fd];
    u->send_bid = -1;
    conns[fd] = u;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    arm_recv(fd);
}

static void on_recv(int fd, uint32_t gen, int res, uint32_t flags) {
    int bid = (flags & IORING_CQE_F_BUFFER) ? (int)(flags >> IORING_CQE_BUFFER_SHIFT) : -1;
    struct uconn *u = fd < conns_cap ? conns[fd] : NULL;
    if (!u || u->gen != gen) {
        if (bid >= 0) give_buffer(bid);
        return;
    }
    if (res <= 0) {
        if (res == -ENOBUFS) {
            if (!(flags & IORING_CQE_F_MORE)) arm_recv(fd); /* buffers come back at the end of this batch */
            return;
        }
        end(fd);
        return;
    }
    const uint8_t *data = slab + (size_t)bid * BUFFER_BYTES;
    if (u->c.state == DRAINING) {
        give_buffer(bid);
    } else if (!is_http) {
        send_bytes(u, data, (size_t)res, bid);
    } else {
        tx_len = 0;
        http_feed(&u->c, data, res);
        give_buffer(bid);
        if (tx_len > 0) send_bytes(u, tx, tx_len, -1);
        else if (u->c.closing) finish(u);
    }
    if (!(flags & IORING_CQE_F_MORE) && conns[fd] == u) arm_recv(fd);
}

static void on_send(int fd, uint32_t gen, int res) {
    struct uconn *u = fd < conns_cap ? conns[fd] : NULL;
    if (!u || u->gen != gen) {
        if (fd < conns_cap && stale_bid[fd] >= 0 && stale_gen[fd] == gen) {
            give_buffer(stale_bid[fd]);
            stale_bid[fd] = -1;
        }
        return;
    }
    if (res > 0 && u->send_at + (size_t)res < u->send_len) {
        u->send_at += (size_t)res;
        submit_send(u);
        return;
    }
    if (u->send_bid >= 0) give_buffer(u->send_bid);
    u->send_bid = -1;
    u->sending = 0;
    if (res < 0) { end(fd); return; }
    if (u->pend_len > 0) {
        /* The queued replies become the send in flight: swap the two buffers. */
        uint8_t *p = u->c.out;
        size_t cap = u->c.out_cap;
        u->c.out = u->pend;
        u->c.out_cap = u->pend_cap;
        u->pend = p;
        u->pend_cap = cap;
        u->send_ptr = u->c.out;
        u->send_len = u->pend_len;
        u->send_at = 0;
        u->pend_len = 0;
        submit_send(u);
        return;
    }
    if (u->c.closing) finish(u);
}

/* io_uring missing or refused: the model's limit (io-uring.ts refusalReason, word for word), then exit 1. */
static int limit(const char *what, int err) {
    const char *why = err == ENOSYS ? " (the kernel has no io_uring, or a seccomp filter hides it)"
                    : err == EPERM ? " (refused: /proc/sys/kernel/io_uring_disabled, or a sandbox)" : "";
    char reason[256];
    snprintf(reason, sizeof reason, "%s: %s%s", what, strerrorname_np(err) ? strerrorname_np(err) : "error", why);
    print_limit_reason(reason);
    return 1;
}

int main(int argc, char **argv) {
    struct server_args args;
    if (parse_server_args("io-uring-server", argc, argv, &args) < 0) return 2;
    block_stop_signals(&waitmask);

    /* Tests stand in for a kernel that refuses io_uring (the real refusals need root-wide settings). */
    const char *refuse = getenv("CB_TEST_URING_REFUSE");
    if (refuse && (!strcmp(refuse, "EPERM") || !strcmp(refuse, "ENOSYS"))) return limit("io_uring_setup", !strcmp(refuse, "EPERM") ? EPERM : ENOSYS);

    struct io_uring_params p;
    unsigned attempts[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
                           IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL, 0};
    ring_fd = -1;
    for (unsigned k = 0; k < 3 && ring_fd < 0; k++) {
        memset(&p, 0, sizeof p);
        p.flags = attempts[k] | IORING_SETUP_CQSIZE;
        p.cq_entries = RING_ENTRIES * 4;
        ring_fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &p);
        if (ring_fd < 0 && errno != EINVAL) return limit("io_uring_setup", errno);
    }
    if (ring_fd < 0) return limit("io_uring_setup", EINVAL);
    unsigned need = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
    if ((p.features & need) != need) return limit("io_uring features (Linux 5.11 or later needed)", ENOSYS);
    size_t ring_bytes = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
    size_t cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (cq_bytes > ring_bytes) ring_bytes = cq_bytes;
    uint8_t *ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
    sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
    if (ring == MAP_FAILED || sqes == MAP_FAILED) return limit("mmap of the io_uring rings", errno);
    sq_head = (uint32_t *)(ring + p.sq_off.head);
    sq_tail = (uint32_t *)(ring + p.sq_off.tail);
    sq_mask = *(uint32_t *)(ring + p.sq_off.ring_mask);
    sq_entries = p.sq_entries;
    uint32_t *array = (uint32_t *)(ring + p.sq_off.array);
    for (uint32_t k = 0; k < sq_entries; k++) array[k] = k; /* SQE k always in slot k */
    local_tail = *sq_tail;
    cq_head = (uint32_t *)(ring + p.cq_off.head);
    cq_tail = (uint32_t *)(ring + p.cq_off.tail);
    cq_mask = *(uint32_t *)(ring + p.cq_off.ring_mask);
    cqes = (struct io_uring_cqe *)(ring + p.cq_off.cqes);

    br = mmap(NULL, BUFFERS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    slab = mmap(NULL, (size_t)BUFFERS * BUFFER_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (br == MAP_FAILED || slab == MAP_FAILED) return limit("mmap of the buffer ring", errno);
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)br, .ring_entries = BUFFERS, .bgid = GROUP};
    if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) return limit("io_uring_register(PBUF_RING) (Linux 5.19 or later needed)", errno);
    for (int b = 0; b < BUFFERS; b++) give_buffer(b);
    __atomic_store_n(&br->tail, br_tail, __ATOMIC_RELEASE);
    br_dirty = 0;

    listen_fd = listen_and_announce("io-uring-server", &args, 0);
    if (listen_fd < 0) return 1;
    arm_accept();

    /* The wait lets only SIGTERM and SIGINT in: io_uring_enter's own sigmask, like epoll_pwait's. */
    struct io_uring_getevents_arg arg = {.sigmask = (uint64_t)(uintptr_t)&waitmask, .sigmask_sz = _NSIG / 8};
    while (!stopping) {
        __atomic_store_n(sq_tail, local_tail, __ATOMIC_RELEASE);
        int r = enter(pending, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
        pending = 0;
        if (r < 0 && errno != EINTR && errno != ETIME && errno != EBUSY) {
            fprintf(stderr, "io-uring-server: io_uring_enter: %s\n", strerror(errno));
            return 1;
        }
        uint32_t head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
        for (; head != tail; head++) {
            struct io_uring_cqe *c = &cqes[head & cq_mask];
            uint32_t hi = (uint32_t)(c->user_data >> 32), lo = (uint32_t)c->user_data;
            uint32_t kind = hi & 0xf, gen = hi >> 4;
            if (kind == K_RECV) on_recv((int)lo, gen, c->res, c->flags);
            else if (kind == K_SEND) on_send((int)lo, gen, c->res);
            else if (kind == K_ACCEPT) {
                if (!(c->flags & IORING_CQE_F_MORE)) accepting = 0;
                if (c->res >= 0) open_conn(c->res);
            }
        }
        __atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
        if (br_dirty) {
            __atomic_store_n(&br->tail, br_tail, __ATOMIC_RELEASE);
            br_dirty = 0;
        }
        if (!accepting) arm_accept();
    }
    for (int fd = 0; fd < conns_cap; fd++)
        if (conns[fd]) end(fd);
    close(listen_fd);
    close(ring_fd);
    return 0;
}
