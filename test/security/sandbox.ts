import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A directory tree whose every byte is recorded, to prove that commands fed hostile input write nothing
 * outside their destination: the tree is snapshotted, a command runs with its working directory and
 * scratch space inside, and everything but the destinations must be exactly as before.
 *
 *   root/            watched (hostile absolute names aim here)
 *     canary, sibling/canary   files that must never change
 *     inputs/        hostile images, written before the snapshot
 *     work/          the commands' working directory (relative "../" names would land in root)
 *     tmp/           LAYERWISE_TMPDIR: must be empty again after every command
 *     out/           destinations: the only place that may change
 */
export class Sandbox {
  readonly root: string;
  readonly inputs: string;
  readonly work: string;
  readonly tmp: string;
  readonly out: string;
  private before = new Map<string, string>();

  constructor(label: string) {
    this.root = mkdtempSync(`/tmp/lw-sbx-${label}-`);
    this.inputs = path.join(this.root, 'inputs');
    this.work = path.join(this.root, 'work');
    this.tmp = path.join(this.root, 'tmp');
    this.out = path.join(this.root, 'out');
    for (const d of [this.inputs, this.work, this.tmp, this.out, path.join(this.root, 'sibling')]) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(this.root, 'canary'), 'canary\n');
    writeFileSync(path.join(this.root, 'sibling', 'canary'), 'sibling canary\n');
  }

  /** Every path under root except out/, with what it is: type, mode, size and content hash or link target. */
  private state(): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (dir: string) => {
      for (const n of readdirSync(dir).sort()) {
        const p = path.join(dir, n);
        if (p === this.out) continue;
        const st = lstatSync(p);
        const rel = path.relative(this.root, p);
        const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'other';
        let what = `${kind} ${st.mode.toString(8)}`;
        if (st.isFile()) what += ` ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
        if (st.isSymbolicLink()) what += ` -> ${readlinkSync(p)}`;
        out.set(rel, what);
        if (st.isDirectory()) walk(p);
      }
    };
    walk(this.root);
    return out;
  }

  snapshot(): void {
    this.before = this.state();
  }

  /** Differences from the snapshot outside out/ (empty when nothing changed). tmp/ must be empty too. */
  changes(): string[] {
    const now = this.state();
    const diffs: string[] = [];
    for (const [p, w] of now) if (this.before.get(p) !== w) diffs.push(`${this.before.has(p) ? 'changed' : 'added'}: ${p} (${w})`);
    for (const p of this.before.keys()) if (!now.has(p)) diffs.push(`removed: ${p}`);
    return diffs;
  }

  /** Nodes under out/ that layerwise must never create on the host, whatever the input: devices, FIFOs, sockets. */
  specialFilesInOut(): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const n of readdirSync(dir)) {
        const p = path.join(dir, n);
        const st = lstatSync(p);
        if (st.isDirectory()) walk(p);
        else if (!st.isFile() && !st.isSymbolicLink()) found.push(p);
        else if (st.isSymbolicLink()) found.push(p);
      }
    };
    walk(this.out);
    return found;
  }

  clearOut(): void {
    rmSync(this.out, { recursive: true, force: true });
    mkdirSync(this.out);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
