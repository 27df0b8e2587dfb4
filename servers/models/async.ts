// Node's own event loop: libuv watches every socket with epoll and calls back on data.
import net from 'node:net';
import { createSession } from '../protocols/session.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { listenNode } from './node-listen.js';

export function start(o: ModelOptions): Promise<RunningServer> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const session = createSession(o.protocol);
    socket.on('data', (chunk: Buffer) => {
      const out = session.feed(chunk);
      // Pausing on a full write buffer is how an event loop applies back-pressure: a client that
      // sends without reading stalls only its own connection, and memory stays bounded.
      if (out !== null && !socket.write(out)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
      if (session.closeAfterReply) socket.end();
    });
    // A client that resets its connection is normal under load; 'close' follows and cleans up.
    socket.on('error', () => {});
  });
  return listenNode(server, o);
}
