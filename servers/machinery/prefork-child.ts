// A prefork child: accept one connection on the inherited listener (fd 3), serve it with blocking
// I/O until it closes, accept the next, forever.
//
// Why a plain blocking accept(), without poll() or a timeout: the child installs no SIGTERM
// handler, so SIGTERM (from the parent's close() or to the whole process group) ends it at once by
// the default action, even while it is blocked in accept() or recv(). A timeout would only add a
// wake-up every IO_TIMEOUT_MS per idle child, which the context-switch counts would then show, and
// a JavaScript handler could not run anyway while the thread is blocked in a libc call.
import { writeSync } from 'node:fs';
import { BlockingBackend } from './backend-blocking.js';
import { acceptNext, beforeReply, serveConnection } from './blocking-conn.js';
import { protocolArg, workArgOf, type PreforkChildMessage } from './blocking-messages.js';
import { createLimitReporter } from './limit-report.js';

const LISTEN_FD = 3;

const say = (m: PreforkChildMessage): void => void writeSync(1, JSON.stringify(m) + '\n');
const protocol = protocolArg();
const reportLimit = createLimitReporter(say);

// Pooled: one backend connection per child, kept across the connections it serves.
const work = workArgOf();
const before = beforeReply(work, BlockingBackend.from(work));

say({ event: 'ready', pid: process.pid });
for (;;) serveConnection(acceptNext(LISTEN_FD, null, reportLimit), protocol, null, before);
