// A thread-offload task, run inside a piscina thread: the request's CPU work.
import { burn } from '../../schema/work.js';

export default function run(iterations: number): number {
  return burn(iterations);
}
