import { Readable } from 'node:stream';

/**
 * Reads the first `n` bytes of a stream and returns them with a stream that still yields everything
 * (the peeked bytes included), so a format can be sniffed without a second open.
 */
export async function peek(stream: Readable, n: number): Promise<[Buffer, Readable]> {
  const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    have += r.value.length;
  }
  const first = Buffer.concat(head);
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const out = Readable.from(all(), { objectMode: false });
  out.on('close', () => {
    if (!stream.destroyed) stream.destroy();
  });
  return [first.subarray(0, n), out];
}
