import type { Command } from 'commander';
import { copyImage } from '../../image/copy.js';
import { printJson, shortDigest } from '../format.js';
import { imageOptions, openOptions, progressFor, writeOptions, type CommonFlags } from '../options.js';

export function register(program: Command): void {
  imageOptions(
    program
      .command('copy')
      .description('copy an image between transports, verifying every blob')
      .argument('<source>', 'TRANSPORT:REF to read')
      .argument('<destination>', 'TRANSPORT:REF to write (created atomically)')
      .option('--dest-compress <gzip|zstd|none>', 'recompress layers for oci/oci-archive/docker:// destinations (changes layer digests, keeps the image ID)')
      .option('--parallel <n>', 'layers transferred at once (registries)')
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (src: string, dst: string, flags: CommonFlags) => {
    const progress = progressFor(flags);
    const r = await copyImage(src, dst, { open: openOptions(flags, progress), write: writeOptions(flags, progress) });
    if (flags.json) {
      printJson(r);
      return;
    }
    if (!flags.quiet) {
      process.stdout.write(`copied ${src} -> ${dst}\n  image ID ${r.imageId}\n  manifest ${r.manifestDigest}\n`);
      for (const c of r.changed) process.stdout.write(`  ${c.what}: digest changed ${shortDigest(c.from)} -> ${shortDigest(c.to)}\n`);
    }
  });
}
