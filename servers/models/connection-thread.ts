// A thread-per-connection thread: serves the descriptor in its workerData, then ends. The socket gets
// an IO timeout (in serveConnection) so a thread blocked in recv() sees the server's stop flag.
import { workerData } from 'node:worker_threads';
import { serveConnection, StopFlag } from './blocking-conn.js';
import type { ConnectionThreadData } from './blocking-messages.js';

const { fd, protocol, stop } = workerData as ConnectionThreadData;
serveConnection(fd, protocol, new StopFlag(stop));
