import { describe, it, expect } from 'vitest';
import { EchoSession } from '../../protocols/echo.js';
import { createSession } from '../../protocols/session.js';

describe('EchoSession', () => {
  it('returns the received chunk itself, without a copy', () => {
    const session = new EchoSession();
    const data = Buffer.from([0, 1, 2, 255, 13, 10]);
    expect(session.feed(data)).toBe(data);
    expect(session.closeAfterReply).toBe(false);
  });

  it('sends back every byte in order across many chunks', () => {
    const session = new EchoSession();
    const sent = Buffer.alloc(10_000);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 31) & 0xff;
    const back: Buffer[] = [];
    for (let at = 0, size = 1; at < sent.length; at += size, size = (size * 3) % 97 + 1) {
      const reply = session.feed(sent.subarray(at, at + size));
      if (reply !== null) back.push(Buffer.from(reply));
    }
    expect(Buffer.concat(back).equals(sent)).toBe(true);
    expect(session.closeAfterReply).toBe(false);
  });

  it('has nothing to send for an empty chunk', () => {
    expect(new EchoSession().feed(Buffer.alloc(0))).toBeNull();
  });

  it('is what createSession makes for the echo protocol', () => {
    expect(createSession('echo')).toBeInstanceOf(EchoSession);
  });
});
