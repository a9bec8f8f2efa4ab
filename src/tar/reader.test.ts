import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { readTar, readTarEntriesInMemory, TarParser, type TarEvent } from './reader.js';
import { tarFromEntries } from './writer.js';
import { isLayerwiseError } from '../errors.js';

function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

describe('tar reader', () => {
  const longName = 'dir/' + 'x'.repeat(150) + '/' + 'ünïcode-' + 'y'.repeat(120) + '.txt';
  const tar = tarFromEntries([
    { path: 'a/', type: 'dir' },
    { path: 'a/hello.txt', type: 'file', data: Buffer.from('hello\n'), mode: 0o600, uid: 1000, gid: 1000, mtime: 1700000000 },
    { path: longName, type: 'file', data: Buffer.alloc(1000, 7) },
    { path: 'a/link', type: 'symlink', linkpath: 'hello.txt' },
    { path: 'a/hard', type: 'hardlink', linkpath: 'a/hello.txt' },
    { path: 'empty', type: 'file', data: Buffer.alloc(0) },
  ]);

  it('reads entries, PAX long names and data, whatever the chunking', async () => {
    for (const size of [1, 7, 511, 512, 513, 4096, tar.length]) {
      const entries = await readTarEntriesInMemory(chunked(tar, size), { subject: 't' });
      expect(entries.map((e) => e.entry.path)).toEqual(['a/', 'a/hello.txt', longName, 'a/link', 'a/hard', 'empty']);
      expect(entries[1]!.data.toString()).toBe('hello\n');
      expect(entries[1]!.entry).toMatchObject({ mode: 0o600, uid: 1000, gid: 1000, mtime: 1700000000, type: 'file' });
      expect(entries[2]!.data.length).toBe(1000);
      expect(entries[3]!.entry).toMatchObject({ type: 'symlink', linkpath: 'hello.txt' });
      expect(entries[4]!.entry).toMatchObject({ type: 'hardlink', linkpath: 'a/hello.txt' });
    }
  });

  it('accounts for every byte: headers + data + padding + trailer == input', async () => {
    const parts: Buffer[] = [];
    for await (const ev of readTar(chunked(tar, 333), { subject: 't' })) {
      if (ev.kind === 'entry') parts.push(ev.entry.headerBytes);
      else if (ev.kind === 'data') parts.push(Buffer.from(ev.chunk));
      else if (ev.kind === 'entry-end') parts.push(ev.padding);
      else if (ev.kind === 'end') parts.push(ev.trailer);
    }
    expect(Buffer.concat(parts).equals(tar)).toBe(true);
  });

  it('refuses truncation, bad checksums and data after the end marker with stable codes', () => {
    const expectCode = (buf: Buffer, code: string) => {
      const p = new TarParser({ subject: 't' });
      let caught: unknown;
      try {
        const ev: TarEvent[] = [];
        p.write(buf, ev);
        p.end(ev);
      } catch (err) {
        caught = err;
      }
      expect(isLayerwiseError(caught) && caught.code, code).toBe(code);
    };
    expectCode(tar.subarray(0, 1024 + 100), 'TAR_TRUNCATED');
    const bad = Buffer.from(tar);
    bad[600] ^= 0xff; // inside the second header's name
    expectCode(bad, 'TAR_BAD_CHECKSUM');
    expectCode(Buffer.concat([tar, Buffer.from('junk'.repeat(128))]), 'TAR_TRAILING_DATA');
  });

  it('bounds extension headers per entry and over the whole archive (they are held in memory)', () => {
    const code = (buf: Buffer, opts: { maxExtensionBytes?: number; maxTotalExtensionBytes?: number } = {}) => {
      try {
        const p = new TarParser({ subject: 't', ...opts });
        p.end(p.write(buf));
        return 'ok';
      } catch (err) {
        return isLayerwiseError(err) ? err.code : String(err);
      }
    };
    const record = (n: number) => ({ 'LW.pad': 'x'.repeat(n) });
    const one = tarFromEntries([{ path: 'a', type: 'file', data: Buffer.from('a'), pax: record(2 * 1024 * 1024) }]);
    expect(code(one)).toBe('TAR_HEADER_TOO_LARGE');
    const many = tarFromEntries(Array.from({ length: 40 }, (_, i) => ({ path: `f${i}`, type: 'file' as const, data: Buffer.alloc(0), pax: record(100_000) })));
    expect(code(many)).toBe('ok');
    expect(code(many, { maxTotalExtensionBytes: 3_000_000 })).toBe('TAR_HEADER_TOO_LARGE');
  });
});
