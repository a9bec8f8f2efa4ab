import type { Command } from 'commander';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { demoRelease } from '../../demo/content.js';
import { validateImage } from '../../image/validate.js';
import { openImage, writeImage } from '../../transports/index.js';
import { humanBytes } from '../format.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the main job on a built-in example: two releases of a small service, no network or daemon needed')
    .option('--keep <dir>', 'keep the demo files in this directory')
    .action(async (flags: { keep?: string }) => {
      const dir = flags.keep ? path.resolve(flags.keep) : await mkdtemp(path.join(os.tmpdir(), 'layerwise-demo-'));
      try {
        const say = (s: string) => process.stdout.write(s + '\n');
        say(`layerwise demo (files in ${dir})`);
        for (const release of [1, 2] as const) {
          const image = demoRelease(release);
          const file = path.join(dir, `app-${release}.tar`);
          await writeImage(image, `docker-archive:${file}:demo/app:1.0.${release - 1}`);
          const back = await openImage(`docker-archive:${file}`);
          const report = await validateImage(back);
          await back.close();
          say(`  release ${release}: ${path.basename(file)} ${humanBytes((await stat(file)).size)}, image ${back.id.slice(0, 19)}, ${report.ok ? 'valid' : 'INVALID'}`);
          if (!report.ok) throw new Error(report.problems.map((p) => p.message).join('; '));
        }
      } finally {
        if (!flags.keep) await rm(dir, { recursive: true, force: true });
      }
    });
}
