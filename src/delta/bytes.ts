import { LayerwiseError } from '../errors.js';

/** A growable byte buffer with LEB128 varints: the building block of every patch stream. */
export class ByteWriter {
  private buf: Buffer;
  length = 0;

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  /** Unsigned varint (LEB128), safe up to 2^53. */
  uint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new LayerwiseError('INTERNAL', `varint out of range: ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /** Signed varint with zigzag coding, so small negative numbers stay short. */
  int(v: number): void {
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** A view of what was written (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  take(): Buffer {
    return Buffer.from(this.view());
  }

  reset(): void {
    this.length = 0;
  }
}

export class ByteReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly subject = 'patch stream') {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private fail(what: string): never {
    throw new LayerwiseError('PATCH_CORRUPT', `${this.subject}: ${what} at byte ${this.pos}`);
  }

  byte(): number {
    if (this.pos >= this.buf.length) this.fail('unexpected end');
    return this.buf[this.pos++]!;
  }

  uint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    this.fail('varint too long');
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) this.fail(`${n} bytes requested, ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
