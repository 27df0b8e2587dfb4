// A thread-per-connection thread: serves the descriptor in its workerData, then ends. The socket gets
// an IO timeout (in serveConnection) so a thread blocked in recv() sees the server's stop flag.
import { workerData } from 'node:worker_threads';
import { BlockingBackend } from './backend-blocking.js';
import { beforeReply, serveConnection, StopFlag } from './blocking-conn.js';
import type { ConnectionThreadData } from './blocking-messages.js';

const { fd, protocol, stop, work } = workerData as ConnectionThreadData;
// The thread lives for one connection, and so does its backend connection: descriptors belong to
// the process, so it is closed here rather than left to the thread's end.
const backend = BlockingBackend.from(work);
serveConnection(fd, protocol, new StopFlag(stop), beforeReply(work, backend));
backend?.close();
