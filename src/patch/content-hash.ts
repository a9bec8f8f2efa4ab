import xxhash from 'xxhash-wasm';

/**
 * File identity inside patches: 64-bit xxHash plus the size. It only decides what to reference; the
 * rebuilt layer's sha256 diffID is what proves the result, so a collision could at worst make an apply
 * fail, never produce a wrong image.
 */
export interface ContentHasher {
  update(chunk: Uint8Array): void;
  /** "<16 hex>:<size>" */
  key(): string;
}

let api: Awaited<ReturnType<typeof xxhash>> | undefined;

export async function initContentHash(): Promise<void> {
  api ??= await xxhash();
}

export function contentHasher(): ContentHasher {
  if (!api) throw new Error('initContentHash() not awaited');
  const h = api.create64(0x6c77n);
  let size = 0;
  return {
    update(chunk) {
      size += chunk.length;
      h.update(chunk);
    },
    key() {
      return `${h.digest().toString(16).padStart(16, '0')}:${size}`;
    },
  };
}
