// One load thread: runs the engine on its share of the connections and posts what it measured.
import { parentPort, workerData } from 'node:worker_threads';
import { Control } from './control.js';
import { runEngine, type EngineOptions } from './engine.js';

const { options, buffer } = workerData as { options: EngineOptions; buffer: SharedArrayBuffer };
parentPort!.postMessage(runEngine(options, new Control(buffer)));
