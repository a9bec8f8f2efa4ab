/** Offsets <-> 1-based line/column positions in a Dockerfile's text. */
import type { Position, Span } from './model.js';

export class SourceText {
  /** Offset of the first character of each line (0-based line index). */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  get lineCount(): number {
    return this.starts.length;
  }

  /** Offset of a 0-based line and character, as dockerfile-ast reports positions. */
  offsetOf(line0: number, character: number): number {
    const start = this.starts[Math.min(line0, this.starts.length - 1)] ?? 0;
    return Math.min(start + character, this.text.length);
  }

  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1, offset };
  }

  span(start: number, end: number): Span {
    return { start: this.position(start), end: this.position(end) };
  }

  /** The text of a 1-based line without its line break. */
  line(line: number): string {
    const s = this.starts[line - 1];
    if (s === undefined) return '';
    const next = this.starts[line] ?? this.text.length;
    return this.text.slice(s, next).replace(/\r?\n$|\r$/, '');
  }
}
