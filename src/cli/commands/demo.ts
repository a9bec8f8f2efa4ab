import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { demoRelease } from '../../demo/content.js';
import { validateImage } from '../../image/validate.js';
import { applyPatch } from '../../patch/apply.js';
import { createPatch } from '../../patch/create.js';
import { openImage, writeImage } from '../../transports/index.js';
import { color, humanBytes } from '../format.js';

async function gzipSize(file: string): Promise<number> {
  let n = 0;
  await pipeline(createReadStream(file), createGzip({ level: 6 }), new Writable({ write: (c: Buffer, _e, cb) => ((n += c.length), cb()) }));
  return n;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job on a built-in example: ship release 1.0.1 of a service to a site running 1.0.0 (no network, no daemon)')
    .option('--keep <dir>', 'keep the demo files in this directory')
    .action(async (flags: { keep?: string }) => {
      const dir = flags.keep ? path.resolve(flags.keep) : await mkdtemp(path.join(os.tmpdir(), 'layerwise-demo-'));
      const say = (s: string) => process.stdout.write(s + '\n');
      try {
        say(color.bold('layerwise demo: ship release 1.0.1 to a site that runs 1.0.0'));
        // The vendor's two releases, as `docker save` would write them.
        const oldFile = path.join(dir, 'app-1.0.0.tar');
        const newFile = path.join(dir, 'app-1.0.1.tar');
        await writeImage(demoRelease(1), `docker-archive:${oldFile}:demo/app:1.0.0`);
        await writeImage(demoRelease(2), `docker-archive:${newFile}:demo/app:1.0.1`);
        const newSize = (await stat(newFile)).size;
        const newGz = await gzipSize(newFile);
        say(`  images       app-1.0.0.tar ${humanBytes((await stat(oldFile)).size)}, app-1.0.1.tar ${humanBytes(newSize)} (docker save format, 4 layers each)`);

        const patchFile = path.join(dir, 'update-1.0.0-1.0.1.lwp');
        let t = Date.now();
        const created = await createPatch({ from: [`docker-archive:${oldFile}`], to: `docker-archive:${newFile}`, output: patchFile, tool: `layerwise/${program.version()}` });
        const s = created.header.stats;
        say(`  patch create ${path.basename(patchFile)}: ${humanBytes(created.bytes)} in ${((Date.now() - t) / 1000).toFixed(2)} s`);
        say(`               ${s.reusedLayers} layers the site has, ${s.rebuiltLayers} rebuilt: ${s.reusedFiles} files referenced, ${s.deltaFiles} as binary deltas, ${s.newFiles} new`);

        // The site: it has release 1.0.0 (here as an OCI layout) and receives only the patch.
        const siteOld = `oci:${path.join(dir, 'site')}:1.0.0`;
        const old = await openImage(`docker-archive:${oldFile}`);
        await writeImage(old, siteOld);
        await old.close();
        const siteNew = `oci:${path.join(dir, 'site')}:1.0.1`;
        t = Date.now();
        const applied = await applyPatch({ patch: patchFile, from: [siteOld], to: siteNew });
        const rebuilt = await openImage(siteNew);
        const report = await validateImage(rebuilt);
        const vendorNew = await openImage(`docker-archive:${newFile}`);
        const same = rebuilt.id === vendorNew.id && rebuilt.layers.every((l, i) => l.diffId === vendorNew.layers[i]?.diffId);
        await rebuilt.close();
        await vendorNew.close();
        say(`  patch apply  rebuilt demo/app:1.0.1 at the site in ${((Date.now() - t) / 1000).toFixed(2)} s: image ${applied.imageId.slice(0, 19)}…`);
        say(`               ${report.ok && same ? color.green('verified') : color.red('MISMATCH')}: every layer digest, the config and the image ID equal the vendor's build`);
        if (!report.ok || !same) throw new Error('the rebuilt image does not match');
        say(`  shipped      ${color.bold(humanBytes(created.bytes))} instead of ${humanBytes(newSize)} (docker save) or ${humanBytes(newGz)} (docker save | gzip): ${Math.round(newGz / created.bytes)}x smaller`);
        if (flags.keep) say(`  files kept in ${dir}`);
      } finally {
        if (!flags.keep) await rm(dir, { recursive: true, force: true });
      }
    });
}
