import type { Command } from 'commander';
import { validateImage } from '../../image/validate.js';
import { openImage } from '../../transports/index.js';
import { color, humanBytes, printJson, shortDigest } from '../format.js';
import { imageOptions, openOptions, progressFor, type CommonFlags } from '../options.js';
import { EXIT } from '../run.js';

export function register(program: Command): void {
  imageOptions(
    program
      .command('validate')
      .description('cross-check manifest, config, digests, diffIDs, sizes and media types; report every mismatch')
      .argument('<image>', 'TRANSPORT:REF')
      .option('--no-layers', 'check metadata only, without reading layer data')
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (ref: string, flags: CommonFlags & { layers?: boolean }) => {
    const progress = progressFor(flags);
    const image = await openImage(ref, openOptions(flags, progress));
    let ok = false;
    try {
      const r = await validateImage(image, { layers: flags.layers !== false, progress });
      ok = r.ok;
      if (flags.json) printJson(r);
      else {
        for (const l of r.layers) {
          const mark = l.ok ? color.green('ok  ') : color.red('FAIL');
          const size = l.uncompressedSize !== undefined ? `${humanBytes(l.size)} (${humanBytes(l.uncompressedSize)} uncompressed, ${l.entries} entries)` : humanBytes(l.size);
          process.stdout.write(`${mark} layer ${l.index} ${shortDigest(l.digest)} ${size}\n`);
        }
        for (const p of r.problems) process.stdout.write(`${color.red('problem')} ${p.where}: ${p.message} [${p.code}]\n`);
        process.stdout.write(r.ok ? `${color.green('valid')}: ${r.reference} (image ID ${r.imageId})\n` : `${color.red('invalid')}: ${r.problems.length} problem(s)\n`);
      }
    } finally {
      await image.close();
    }
    if (!ok) process.exitCode = EXIT.failure;
  });
}
