// The acceptor thread of process-per-connection and thread-per-connection: blocks in
// accept() and posts each new descriptor to the main thread. Accepting here rather than on the main
// thread keeps the main thread's event loop free to start children and threads, reap them and
// handle SIGTERM, without spinning and without a poll() that delays all of it.
import { parentPort, workerData } from 'node:worker_threads';
import { setIoTimeout } from '../../sys/socket.js';
import { acceptNext, IO_TIMEOUT_MS, StopFlag } from './blocking-conn.js';
import type { AcceptorData, AcceptorMessage } from './blocking-messages.js';
import { createLimitReporter } from './limit-report.js';

const { listenFd, stop } = workerData as AcceptorData;
const flag = new StopFlag(stop);
// postMessage is delivered at once even though this thread never returns to its event loop.
const post = (m: AcceptorMessage): void => parentPort!.postMessage(m);
const reportLimit = createLimitReporter(post);

setIoTimeout(listenFd, IO_TIMEOUT_MS); // accept() honours SO_RCVTIMEO, so the loop sees the flag
post({ event: 'ready' });
for (;;) {
  const fd = acceptNext(listenFd, flag, reportLimit);
  if (fd < 0) break;
  post({ event: 'connection', fd });
}
