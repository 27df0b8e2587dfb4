// The only place in the project that declares a libc function. Everything is synchronous and
// returns plain numbers (a negative value is -errno) so hot loops neither allocate nor throw.
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');

// Buffers are passed as `void *` and koffi hands their memory to libc in place, without copying.
export const c = {
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)'),
  getsockname: lib.func('int getsockname(int fd, void *addr, _Inout_ uint32_t *len)'),
  bind: lib.func('int bind(int fd, void *addr, uint32_t len)'),
  listen: lib.func('int listen(int fd, int backlog)'),
  accept4: lib.func('int accept4(int fd, void *addr, void *len, int flags)'),
  connect: lib.func('int connect(int fd, void *addr, uint32_t len)'),
  recv: lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
  send: lib.func('intptr_t send(int fd, void *buf, size_t len, int flags)'),
  shutdown: lib.func('int shutdown(int fd, int how)'),
  close: lib.func('int close(int fd)'),
  dup: lib.func('int dup(int fd)'),
  select: lib.func('int select(int nfds, void *readfds, void *writefds, void *exceptfds, void *timeout)'),
  poll: lib.func('int poll(void *fds, uint64_t nfds, int timeout)'),
  epoll_create1: lib.func('int epoll_create1(int flags)'),
  epoll_ctl: lib.func('int epoll_ctl(int epfd, int op, int fd, void *event)'),
  epoll_wait: lib.func('int epoll_wait(int epfd, void *events, int maxevents, int timeout)'),
  nanosleep: lib.func('int nanosleep(void *req, void *rem)'),
  clock_gettime: lib.func('int clock_gettime(int clock, void *ts)'),
  getpid: lib.func('int getpid()'),
  eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
  prctl: lib.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
  mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
  munmap: lib.func('int munmap(void *addr, size_t length)'),
  // The harness's run lock: held by an open file, released by the kernel when its holder dies.
  flock: lib.func('int flock(int fd, int operation)'),
  // io_uring has no libc wrapper: syscall(2) with fixed prototypes, one per call. glibc's syscall()
  // is an assembly shim that only moves registers, so a fixed prototype passes the same registers
  // as the variadic one would (koffi's variadic calls parse their types on every call).
  io_uring_setup: lib.func('syscall', 'long', ['long', 'uint32_t', 'void *']),
  io_uring_enter: lib.func('syscall', 'long', ['long', 'int', 'uint32_t', 'uint32_t', 'uint32_t', 'void *', 'size_t']),
  io_uring_register: lib.func('syscall', 'long', ['long', 'int', 'uint32_t', 'void *', 'uint32_t']),
};

/**
 * epoll_wait with a nanosecond timeout (Linux 5.11, glibc 2.35): an open-loop client must wake for
 * a send due in 150 µs, which epoll_wait's milliseconds cannot express. Null where it is missing.
 */
export const epollPwait2 = optional(() => lib.func('int epoll_pwait2(int epfd, void *events, int maxevents, void *timeout, void *sigmask)'));

function optional<T>(bind: () => T): T | null {
  try {
    return bind();
  } catch {
    return null;
  }
}

/** errno of the last libc call made on this thread. */
export function errno(): number {
  return koffi.errno();
}

// Linux values (x86-64 and arm64 share these).
export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_LINGER = 13;
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const MSG_NOSIGNAL = 0x4000;
export const SHUT_WR = 1;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const PR_SET_TIMERSLACK = 29;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLL_CLOEXEC = 0o2000000;

export const POLLIN = 0x001;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

/** select(2) can only watch descriptors below this (glibc's fixed fd_set size). */
export const FD_SETSIZE = 1024;
