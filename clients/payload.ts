// Deterministic test bytes, shared by the echo client and the tests.

/**
 * `size` bytes from a xorshift generator seeded with `seed`: the same seed always gives the same
 * bytes, and they do not repeat with a short period, so an echo that shuffles, truncates or mixes
 * up connections is caught.
 */
export function seededBytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = (Math.imul(seed, 2654435761) | 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
