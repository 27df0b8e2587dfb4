// A process-per-connection child: serves the connection it was given as fd 3, then exits.
// There is no stop flag and no socket timeout: the child installs no SIGTERM handler, so SIGTERM
// (from the parent's close() or to the whole process group) ends it at once by the default action,
// even while it is blocked in recv().
import { BlockingBackend } from './backend-blocking.js';
import { beforeReply, serveConnection } from './blocking-conn.js';
import { protocolArg, workArgOf } from './blocking-messages.js';

const CONNECTION_FD = 3;

const work = workArgOf();
// The backend socket, if any, ends with the process.
serveConnection(CONNECTION_FD, protocolArg(), null, beforeReply(work, BlockingBackend.from(work)));
