// The echo protocol: every byte received goes back, in order. The received chunk is returned as is,
// with no copy, so the cost measured is the model's, not the protocol's.
import type { Session } from './types.js';

export class EchoSession implements Session {
  /** Echo never ends a connection; the client does. */
  readonly closeAfterReply = false;

  feed(data: Buffer): Buffer | null {
    return data.length === 0 ? null : data;
  }
}
