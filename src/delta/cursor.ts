import { LayerwiseError } from '../errors.js';

/** Sequential reads from a patch stream; implemented over memory (tests, small streams) and over files. */
export interface Cursor {
  byte(): Promise<number>;
  uint(): Promise<number>;
  int(): Promise<number>;
  /** n bytes as one buffer: for short runs. */
  bytes(n: number): Promise<Uint8Array>;
  /** n bytes in chunks: for long runs that should not be held whole. */
  take(n: number, emit: (chunk: Uint8Array) => void | Promise<void>): Promise<void>;
  readonly remaining: number;
}

export class MemoryCursor implements Cursor {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly subject = 'patch stream') {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private fail(what: string): never {
    throw new LayerwiseError('PATCH_CORRUPT', `${this.subject}: ${what} at byte ${this.pos}`);
  }

  async byte(): Promise<number> {
    if (this.pos >= this.buf.length) this.fail('unexpected end');
    return this.buf[this.pos++]!;
  }

  async uint(): Promise<number> {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) this.fail('unexpected end');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    this.fail('varint too long');
  }

  async int(): Promise<number> {
    const z = await this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  async bytes(n: number): Promise<Uint8Array> {
    if (n < 0 || this.pos + n > this.buf.length) this.fail(`${n} bytes requested, ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  async take(n: number, emit: (chunk: Uint8Array) => void | Promise<void>): Promise<void> {
    await emit(await this.bytes(n));
  }
}
