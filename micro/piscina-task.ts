// The smallest piscina task: its round trip is the pool's own cost per request.
export default function echo(x: number): number {
  return x;
}
