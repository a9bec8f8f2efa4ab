import { Transform, type Readable } from 'node:stream';
import { chain } from '../image/blob-layer.js';

/**
 * Observes bytes as they pass (for progress), without attaching a 'data' listener: a listener would
 * switch the source to flowing mode and lose chunks before the real consumer attaches.
 */
export function tap(stream: Readable, onBytes: ((n: number) => void) | undefined): Readable {
  if (!onBytes) return stream;
  return chain(
    stream,
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        onBytes(chunk.length);
        cb(null, chunk);
      },
    }),
  );
}
