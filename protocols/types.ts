// The shape every protocol session has, apart from the factory (session.ts) so that the protocol
// files and the factory do not import each other.

export interface Session {
  /**
   * Consume bytes received on the connection and return the bytes to send back, or null when there
   * is nothing to send yet. The result may be `data` itself (echo), so a caller that reuses its
   * receive buffer must send or copy the result before the next receive. The result may also be
   * a prebuilt response shared by every session (http), so callers never write into it.
   */
  feed(data: Buffer): Buffer | null;
  /** True once the connection should be closed after the bytes returned so far are sent. */
  readonly closeAfterReply: boolean;
}
