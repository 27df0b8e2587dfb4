// A cluster worker: exactly the async model. Its listen() goes through the cluster primary, which
// owns the listening socket. No SIGTERM handler: the primary's close() (or the signal to the
// process group) ends it by the default action.
import { PROTOCOLS, type Protocol } from '../../schema/catalog.js';
import { parseWork } from '../../schema/work.js';
import { startAsync } from './async-serve.js';

const [protocol, host, port, work] = process.argv.slice(2) as [Protocol, string, string, string];
if (!PROTOCOLS.includes(protocol)) throw new Error(`cluster worker: unknown protocol ${String(protocol)}`);
await startAsync({ protocol, host, port: Number(port), workers: 1, work: parseWork(work) });
