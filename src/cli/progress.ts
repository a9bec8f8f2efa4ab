import type { Progress } from '../progress.js';
import { humanBytes } from './format.js';

/**
 * Draws progress on stderr: one updating line on a terminal (bytes, rate, ETA), a line per phase
 * otherwise. Quiet mode draws nothing.
 */
export class StderrProgress implements Progress {
  private label = '';
  private total: number | undefined;
  private done_ = 0;
  private started = 0;
  private lastDraw = 0;
  private readonly tty = !!process.stderr.isTTY;

  constructor(private readonly quiet = false) {}

  start(label: string, total?: number): void {
    this.label = label;
    this.total = total;
    this.done_ = 0;
    this.started = Date.now();
    this.lastDraw = 0;
    if (!this.quiet && !this.tty) process.stderr.write(`${label}${total ? ` (${humanBytes(total)})` : ''}...\n`);
  }

  advance(bytes: number): void {
    this.done_ += bytes;
    if (this.quiet || !this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = this.done_ / secs;
    let eta = '';
    if (this.total && rate > 0 && this.done_ <= this.total) eta = ` ETA ${Math.ceil((this.total - this.done_) / rate)}s`;
    const of = this.total ? ` / ${humanBytes(this.total)}` : '';
    process.stderr.write(`\r\x1b[K${this.label}: ${humanBytes(this.done_)}${of} (${humanBytes(rate)}/s)${eta}`);
  }

  done(): void {
    if (!this.quiet && this.tty) process.stderr.write('\r\x1b[K');
  }

  note(message: string): void {
    if (!this.quiet) process.stderr.write(`${message}\n`);
  }
}
