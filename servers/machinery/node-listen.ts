// Listening and stopping for the models built on node:net / node:http servers.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { ModelOptions, RunningServer } from '../types.js';

export function listenNode(server: Server, o: ModelOptions): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, backlog: 4096 }, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('listen: no TCP address'));
      resolve({
        host: o.host,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
