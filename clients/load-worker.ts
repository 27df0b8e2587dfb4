// One load thread: runs the engine on its share of the connections and posts what it measured.
import { parentPort, workerData } from 'node:worker_threads';
import { Control } from './control.js';
import { runEngine, type EngineOptions } from './engine.js';

const { options, buffer, stream } = workerData as { options: EngineOptions; buffer: SharedArrayBuffer; stream: boolean };
// An agent's thread posts each interval as it closes (the loop never yields, but posting does not need it), then its result.
parentPort!.postMessage(runEngine(options, new Control(buffer), stream ? (p) => parentPort!.postMessage(p) : null));
