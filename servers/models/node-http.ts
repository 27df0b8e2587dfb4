// node:http, the server most Node users deploy: its own parser (llhttp), same routes as the shared code.
import http from 'node:http';
import { bytesBody, HELLO_BODY, MAX_BYTES_ROUTE, MAX_HEAD_BYTES } from '../../protocols/http.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { reportFault } from '../machinery/limit-report.js';
import { loopGate, type AsyncGate } from '../machinery/async-serve.js';
import { listenNode } from '../machinery/node-listen.js';

const hello = Buffer.from(HELLO_BODY);
const BYTES_PATH = /^\/bytes\/(0|[1-9]\d{0,6})(\?.*)?$/;
const bodies = new Map<number, Buffer>();

/** Runs the scenario's work (backend query or CPU), then `respond`; a fault ends the connection. */
function after(gate: AsyncGate, res: http.ServerResponse, respond: () => void): void {
  const g = gate === null ? null : gate();
  if (g === null) return respond();
  const fail = (fault: string): void => {
    reportFault(fault);
    res.destroy();
  };
  if (typeof g === 'string') return fail(g);
  void g.then((fault) => (fault === null ? respond() : fail(fault)));
}

/** N of GET /bytes/N (as the shared HTTP code routes it), or null. */
function bytesN(url: string | undefined): number | null {
  const m = url === undefined ? null : BYTES_PATH.exec(url);
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n <= MAX_BYTES_ROUTE ? n : null;
}

export async function start(o: ModelOptions): Promise<RunningServer> {
  if (o.protocol !== 'http') throw new Error(`node-http serves only the http protocol, not ${o.protocol}`);
  const { gate, close } = loopGate(o.work);
  // maxHeaderSize: the shared 8 KiB rule's number, not node:http's 16 KiB default. node:http counts
  // it its own way (the URL, header names and values, not the separators and line ends), so a head
  // near 8 KiB may be judged a few bytes apart from the shared code's whole-head count (README, Models).
  const server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000, maxHeaderSize: MAX_HEAD_BYTES }, (req, res) => {
    res.setHeader('Server', 'concurrency-bench');
    if (req.url === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      after(gate, res, () => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': hello.length });
        res.end(req.method === 'HEAD' ? undefined : hello);
      });
    } else if (bytesN(req.url) !== null) {
      const n = bytesN(req.url)!;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 });
        return res.end();
      }
      after(gate, res, () => {
        let body = bodies.get(n);
        if (body === undefined) bodies.set(n, (body = bytesBody(n)));
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    } else if (req.url === '/echo' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        after(gate, res, () => {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
          res.end(body);
        });
      });
    } else if (req.url === '/' || req.url === '/echo') {
      res.writeHead(405, { Allow: req.url === '/' ? 'GET, HEAD' : 'POST', 'Content-Length': 0 });
      res.end();
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 9 });
      res.end('Not Found');
    }
  });
  // No 'clientError' handler: node:http then answers malformed requests itself (400, 431 for
  // oversized headers) and closes, as it does for the users this model stands for.
  const running = await listenNode(server, o);
  return { ...running, close: () => running.close().finally(close) };
}
