/**
 * Progress of long work, reported by the library and drawn by the CLI (stderr, bytes and ETA).
 * The library never prints; it only calls these.
 */
export interface Progress {
  /** A new phase; `total` in bytes when known. */
  start(label: string, total?: number): void;
  advance(bytes: number): void;
  done(): void;
  /** A one-line remark worth showing (e.g. which engine load path was taken). */
  note(message: string): void;
}

export const silentProgress: Progress = {
  start() {},
  advance() {},
  done() {},
  note() {},
};
