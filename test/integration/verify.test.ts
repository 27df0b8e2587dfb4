// The checks before load, against small servers that each get one thing wrong.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyExchange } from '../../harness/verify.js';
import { startServer } from '../helpers/server.js';

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function listen(s: net.Server): Promise<number> {
  servers.push(s);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
}

/** node:http with our routes, and `tweak` to get one thing wrong. */
function routes(tweak: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => boolean = () => false): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (tweak(req, res, body)) return;
      if (req.url === '/') res.writeHead(200, { 'Content-Length': 13 }).end('Hello, World!');
      else if (req.url === '/echo') res.writeHead(200, { 'Content-Length': body.length }).end(body);
      else res.writeHead(404, { 'Content-Length': 9 }).end('Not Found');
    });
  });
}

describe('verifyExchange', () => {
  it('passes our epoll model on both protocols', async () => {
    for (const protocol of ['echo', 'http'] as const) {
      const s = await startServer('epoll', protocol);
      try {
        await expect(verifyExchange('127.0.0.1', s.port, protocol)).resolves.toBeUndefined();
      } finally {
        await s.stop();
      }
    }
  });

  it('passes a server that closes after every answer it marks Connection: close', async () => {
    const port = await listen(routes((_q, res) => {
      res.shouldKeepAlive = false;
      return false;
    }));
    await expect(verifyExchange('127.0.0.1', port, 'http')).resolves.toBeUndefined();
  });

  it('fails a POST /echo that does not give the body back', async () => {
    const port = await listen(routes((req, res) => req.url === '/echo' && (res.writeHead(200, { 'Content-Length': 2 }).end('no'), true)));
    await expect(verifyExchange('127.0.0.1', port, 'http')).rejects.toThrow('verify http: POST /echo pipelined after it: expected body "verify écho body", got "no"');
  });

  it('fails a missing path answered 200', async () => {
    const port = await listen(routes((req, res) => req.url === '/missing' && (res.writeHead(200, { 'Content-Length': 2 }).end('ok'), true)));
    await expect(verifyExchange('127.0.0.1', port, 'http')).rejects.toThrow('verify http: GET /missing (404, then close): expected status 404, got 200');
  });

  it('fails a body longer than its Content-Length', async () => {
    const port = await listen(net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHello, World!'));
    }));
    await expect(verifyExchange('127.0.0.1', port, 'http')).rejects.toThrow(/^verify http: GET \/ \(keep-alive\): expected body "Hello, World!", got "Hello"$/);
  });

  it('fails a server that closes without saying so', async () => {
    const port = await listen(net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!'));
    }));
    await expect(verifyExchange('127.0.0.1', port, 'http')).rejects.toThrow('verify http: a pipelined GET /: the server closed the connection without saying Connection: close');
  });

  it('fails an echo server that answers each piece of a split message on its own', async () => {
    const port = await listen(net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d) => s.write(Buffer.concat([d, Buffer.from('!')])));
    }));
    await expect(verifyExchange('127.0.0.1', port, 'echo')).rejects.toThrow(/^verify echo: echoed bytes differ from the \d+ sent in three writes$/);
  });
});
