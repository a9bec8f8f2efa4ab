import type { Writable } from 'node:stream';

/**
 * Writes a chunk and waits for room if the stream is full. Resolves false when the stream was destroyed
 * (its reader gave up), so a producer can stop instead of waiting for a 'drain' that never comes.
 */
export async function writeOrStop(stream: Writable, chunk: Buffer): Promise<boolean> {
  if (stream.destroyed || stream.writableEnded) return false;
  if (stream.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const onDrain = () => {
      stream.off('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      stream.off('drain', onDrain);
      resolve(false);
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}
