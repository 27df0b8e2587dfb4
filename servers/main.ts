// The one entry for every model: start it, print the listening line, stop cleanly on SIGTERM.
import { writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { findModel, MODEL_NAMES, PROTOCOLS, type Protocol } from '../schema/catalog.js';
import type { ServerMessage } from '../schema/messages.js';
import type { Model } from './types.js';
import { defaultWorkers } from '../schema/flags.js';
import { parseWork, type Work } from '../schema/work.js';

/** Worker threads or processes for the models that use a fixed number, unless --workers says. */
const DEFAULT_WORKERS = defaultWorkers(availableParallelism());
const STOP_GRACE_MS = 5000;

function say(m: ServerMessage): void {
  // Synchronous, so the line is out before a model's busy loop takes the thread.
  writeSync(1, JSON.stringify(m) + '\n');
}

class UsageError extends Error {
  readonly code = 'EUSAGE';
}

function parse(): { model: string; protocol: Protocol; host: string; port: number; workers: number; work: Work } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        model: { type: 'string' },
        protocol: { type: 'string', default: 'echo' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        workers: { type: 'string', default: String(DEFAULT_WORKERS) },
        work: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new UsageError(`server: ${(e as Error).message}`);
  }
  const info = findModel(values.model ?? '');
  if (!info) throw new UsageError(`server: --model: unknown model "${values.model ?? ''}"; known: ${MODEL_NAMES.join(', ')}`);
  const protocol = values.protocol as Protocol;
  if (!PROTOCOLS.includes(protocol)) throw new UsageError(`server: --protocol: unknown protocol "${protocol}"; allowed: ${PROTOCOLS.join(', ')}`);
  if (!info.protocols.includes(protocol)) {
    throw new UsageError(`server: --protocol: model ${info.name} serves ${info.protocols.join(', ')}, not ${protocol}`);
  }
  // A server host of a plan across machines binds the one address the plan names for it, never all of them.
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(values.host) || values.host === '0.0.0.0') {
    throw new UsageError(`server: --host must be an IPv4 address of this host (default 127.0.0.1; 0.0.0.0 is refused), got ${values.host}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`server: --port must be an integer 0..65535, got ${values.port}`);
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`server: --workers must be a positive integer, got ${values.workers}`);
  let work: Work;
  try {
    work = parseWork(values.work);
  } catch (e) {
    throw new UsageError(`server: ${(e as Error).message}`);
  }
  if (work.kind !== 'none' && info.scenarios !== undefined && !info.scenarios.includes(work.kind)) {
    throw new UsageError(`server: --work: model ${info.name} serves only the scenarios ${info.scenarios.join(', ')}`);
  }
  return { model: info.name, protocol, host: values.host, port, workers, work };
}

const USAGE = `Usage: npm run server -- --model MODEL [--protocol echo|http] [--port N] [--workers N] [--work JSON]

Starts one model on 127.0.0.1 and prints its listening line as JSON ({"event":"listening","port":N,...});
SIGTERM stops it. The harness starts servers this way; it is here to try a model by hand.

  --model MODEL     one of: ${MODEL_NAMES.join(', ')}
  --protocol P      ${PROTOCOLS.join(' or ')} (default: echo)
  --host ADDRESS    an IPv4 address of this host to listen on (default: 127.0.0.1; a plan across
                    machines passes the server host's address)
  --port N          0 for any free port (default: 0)
  --workers N       threads or processes for the models with a fixed number (default: ${DEFAULT_WORKERS})
  --work JSON       the scenario's work (io-wait, cpu), as the harness passes it`;

async function main(): Promise<void> {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const o = parse();
  const model = (await import(`./models/${o.model}.js`)) as Model;
  const server = await model.start(o);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // Handlers first: whoever reads the listening line may send SIGTERM at once, and the default
  // action would end this process without ending the children or threads it started.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  say({ event: 'listening', host: server.host, port: server.port, pid: process.pid });
}

main().catch((e: Error & { code?: string }) => {
  say({ event: 'error', code: e.code ?? 'ERROR', message: e.message });
  process.stderr.write(e.message + '\n');
  process.exit(e instanceof UsageError ? 2 : 1);
});
