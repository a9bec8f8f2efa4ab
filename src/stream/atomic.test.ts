import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanDeadTemps, cleanTempSiblings, isTempName } from './atomic.js';
import { makeScratchDir } from './scratch.js';

const dir = mkdtempSync('/tmp/lw-atomic-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The PID of a process that has exited: what a killed run leaves in temporary names. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('leftovers of killed runs', () => {
  it('recognises every temporary name layerwise writes', () => {
    for (const n of ['.out.tar.lw-tmp-12-0a1b2c3d', '.lw-tmp-12-0a1b2c3d', '.index.json.lw-tmp-12-0a1b2c3d', '.out.tar.lw-tmp-12-0a1b2c3d.blob']) expect(isTempName(n), n).toBe(true);
    for (const n of ['out.tar', 'lw-tmp-12-0a1b2c3d', '.out.lw-tmp-x-0a1b2c3d', '.out.lw-tmp-12-0a1b2c3']) expect(isTempName(n), n).toBe(false);
  });

  it('removes the temporaries of dead runs, never those of live ones or other files', async () => {
    const dead = deadPid();
    const d = path.join(dir, 'layout');
    mkdirSync(d);
    const names = [`.lw-tmp-${dead}-0a1b2c3d`, `.index.json.lw-tmp-${dead}-0a1b2c3d`, `.lw-tmp-${process.pid}-0a1b2c3d`, `.lw-tmp-1-0a1b2c3d`, 'index.json', '0'.repeat(64)];
    for (const n of names) writeFileSync(path.join(d, n), 'x');
    await cleanDeadTemps(d);
    expect(readdirSync(d).sort()).toEqual([`.lw-tmp-${process.pid}-0a1b2c3d`, `.lw-tmp-1-0a1b2c3d`, '0'.repeat(64), 'index.json'].sort());
    const dest = path.join(dir, 'out.tar');
    writeFileSync(`${path.join(dir, '.out.tar')}.lw-tmp-${dead}-0a1b2c3d.blob`, 'x');
    writeFileSync(`${path.join(dir, '.out.tar')}.lw-tmp-${dead}-0a1b2c3e`, 'x');
    writeFileSync(`${path.join(dir, '.other.tar')}.lw-tmp-${dead}-0a1b2c3e`, 'x');
    await cleanTempSiblings(dest);
    expect(readdirSync(dir).filter((n) => n.includes('lw-tmp'))).toEqual([`.other.tar.lw-tmp-${dead}-0a1b2c3e`]);
  });

  it('removes scratch directories of dead runs when a new one is made', async () => {
    const root = path.join(dir, 'scratch');
    mkdirSync(root);
    const dead = deadPid();
    mkdirSync(path.join(root, `layerwise-apply-${dead}-AbC123`));
    writeFileSync(path.join(root, `layerwise-apply-${dead}-AbC123`, '0.spool'), 'x');
    mkdirSync(path.join(root, `layerwise-base-1-AbC123`));
    mkdirSync(path.join(root, 'layerwise-demo-AbC123'));
    const before = process.env.LAYERWISE_TMPDIR;
    process.env.LAYERWISE_TMPDIR = root;
    try {
      const made = await makeScratchDir('create');
      expect(path.basename(made)).toMatch(new RegExp(`^layerwise-create-${process.pid}-`));
      expect(readdirSync(root).sort()).toEqual([path.basename(made), 'layerwise-base-1-AbC123', 'layerwise-demo-AbC123'].sort());
    } finally {
      if (before === undefined) delete process.env.LAYERWISE_TMPDIR;
      else process.env.LAYERWISE_TMPDIR = before;
    }
  });
});
