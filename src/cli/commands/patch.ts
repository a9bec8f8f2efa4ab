import type { Command } from 'commander';
import type { PatchDescription } from '../../patch/inspect.js';
import type { RegistryOptions } from '../../transports/index.js';
import { registryOptions } from '../options.js';
import { color, humanBytes, printJson, shortDigest, table } from '../format.js';
import { imageOptions, openOptions, progressFor, writeOptions, type CommonFlags } from '../options.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

// The library parts load when an action runs, so each run loads only what it uses.
const patchCreate = () => import('../../patch/create.js');
const patchApply = () => import('../../patch/apply.js');
const patchInspect = () => import('../../patch/inspect.js');
const patchArtifact = () => import('../../patch/artifact.js');

/** Runs `work` on a local patch file, pulling it first when it names a registry artifact. */
export async function withLocalPatch<T>(patch: string, registry: RegistryOptions | undefined, work: (file: string) => Promise<T>): Promise<T> {
  if (!patch.startsWith('docker://')) return work(patch);
  return (await patchArtifact()).withLocalPatch(patch, registry, work);
}

export function register(program: Command): void {
  const patch = program.command('patch').description('make, apply, inspect and verify update patches between images');

  imageOptions(
    patch
      .command('create')
      .description('make a patch holding only what a site with the --from image(s) lacks to rebuild --to exactly')
      .requiredOption('--from <image>', 'an image the site already has (repeatable)', collect)
      .requiredOption('--to <image>', 'the image to ship')
      .requiredOption('-o, --output <file>', 'patch file to write')
      .option('--json', 'machine-readable summary')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (flags: CommonFlags & { from: string[]; to: string; output: string }) => {
    const progress = progressFor(flags);
    const { createPatch } = await patchCreate();
    const r = await createPatch({ from: flags.from, to: flags.to, output: flags.output, open: openOptions(flags, progress), progress, tool: `layerwise/${program.version()}` });
    if (flags.json) {
      printJson({ output: r.output, bytes: r.bytes, target: r.header.targets[0], stats: r.header.stats, streams: r.streamBytes });
      return;
    }
    if (flags.quiet) return;
    const s = r.header.stats;
    process.stdout.write(
      [
        `wrote ${r.output}: ${humanBytes(r.bytes)} (${r.bytes} bytes)`,
        `  target ${r.header.targets[0]!.reference}  image ID ${r.header.targets[0]!.imageId}`,
        `  layers: ${s.reusedLayers} reused from the site, ${s.rebuiltLayers} rebuilt from ${s.entries} entries`,
        `  files: ${s.reusedFiles} referenced (${humanBytes(s.reusedFileBytes)}), ${s.deltaFiles} as deltas (${humanBytes(s.deltaTargetBytes)} of content), ${s.newFiles} new (${humanBytes(s.newDataBytes)})`,
      ].join('\n') + '\n',
    );
  });

  imageOptions(
    patch
      .command('apply')
      .description('rebuild the target image from the site\'s image(s) and a patch, verify every digest, write it anywhere')
      .argument('<patch>', 'patch file, or docker://REGISTRY/REPO:TAG (a pushed patch)')
      .requiredOption('--from <image>', 'an image the site has (repeatable)', collect)
      .requiredOption('--to <destination>', 'where to write the rebuilt image (docker-archive:, oci:, oci-archive:, docker-daemon:, docker://)')
      .option('--json', 'machine-readable summary')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (file: string, flags: CommonFlags & { from: string[]; to: string }) => {
    const progress = progressFor(flags);
    const { applyPatch } = await patchApply();
    const r = await withLocalPatch(file, registryOptions(flags), (local) => applyPatch({ patch: local, from: flags.from, to: flags.to, open: openOptions(flags, progress), write: writeOptions(flags, progress), progress }));
    if (flags.json) {
      printJson(r);
      return;
    }
    if (flags.quiet) return;
    process.stdout.write(`applied ${file} -> ${flags.to}\n  image ID ${r.imageId} (verified)\n  manifest ${r.manifestDigest}\n`);
    for (const c of r.digestChanges) {
      process.stdout.write(`  ${color.yellow('note')}: ${c.what} recompressed: ${shortDigest(c.from)} -> ${shortDigest(c.to)} (the original compressor cannot be reproduced; diffIDs and image ID are unchanged)\n`);
    }
  });

  imageOptions(
    patch
      .command('inspect')
      .description('show what a patch needs at the site and what it holds')
      .argument('<patch>', 'patch file, or docker://REGISTRY/REPO:TAG')
      .option('--json', 'machine-readable output'),
  ).action(async (file: string, flags: CommonFlags) => {
      const { describePatch } = await patchInspect();
      const d = await withLocalPatch(file, registryOptions(flags), (local) => describePatch(local));
      if (flags.json) {
        printJson(d);
        return;
      }
      process.stdout.write(describeText(d));
    });

  registerPush(patch, 'patch');

  imageOptions(
    patch
      .command('verify')
      .description('check that a patch applies to the given base and rebuilds the exact target, writing nothing')
      .argument('<patch>', 'patch file')
      .requiredOption('--from <image>', 'an image the site has (repeatable)', collect)
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (file: string, flags: CommonFlags & { from: string[] }) => {
    const progress = progressFor(flags);
    const { verifyPatch } = await patchApply();
    const r = await withLocalPatch(file, registryOptions(flags), (local) => verifyPatch({ patch: local, from: flags.from, open: openOptions(flags, progress), progress }));
    if (flags.json) printJson({ ok: true, ...r });
    else if (!flags.quiet) process.stdout.write(`${color.green('ok')}: ${file} rebuilds image ${r.imageId} from ${flags.from.join(', ')} (${r.targets[0]!.layers.length} layers verified)\n`);
  });
}

/** The text `patch inspect` and `bundle inspect` print. */
export function describeText(d: PatchDescription): string {
  const h = d.header;
  const lines = [
    `${color.bold(h.kind === 'bundle' ? 'Bundle' : 'Patch')}    ${d.path}  ${humanBytes(d.bytes)} (${d.bytes} bytes), format v${h.version}, made ${h.created} by ${h.tool}`,
    `${color.bold('Needs')}    ${d.needs.layers.length} base layer(s) (${humanBytes(d.needs.layers.reduce((a, l) => a + l.size, 0))}), and image(s) ${d.needs.images.map((i) => `${shortDigest(i.imageId)} (${i.reference})`).join(', ')}`,
  ];
  for (const t of d.targets) {
    lines.push('');
    const who = t.services.length ? `${t.services.join(', ')}: ` : '';
    lines.push(`${color.bold('Image')}    ${who}${t.names.join(', ') || '(unnamed)'}${t.from ? `  (from ${t.from})` : ''}`);
    lines.push(`         image ID ${t.imageId}, manifest ${shortDigest(t.manifestDigest)}, ${humanBytes(t.ownBytes)} of this file`);
    lines.push(
      table(
        [
          ['#', 'LAYER', 'SIZE', 'HOW', 'PATCH BYTES', 'BLOB'].map((x) => color.dim(x)),
          ...t.layers.map((l) => [String(l.index), shortDigest(l.diffId), humanBytes(l.size), l.source, l.source === 'rebuilt' ? (l.shared ? 'shared' : String(l.sectionBytes)) : '-', l.blob]),
        ],
        ['r', 'l', 'r', 'l', 'r', 'l'],
      ),
    );
  }
  lines.push('');
  lines.push(`${color.bold('Bytes by kind')}  header ${d.bytesByKind.header}, tar metadata ${d.bytesByKind.tarMetadata}, deltas ${d.bytesByKind.deltas}, new data ${d.bytesByKind.newData}, config+manifest ${d.bytesByKind.configAndManifest}`);
  lines.push(`${color.bold('Files')}          ${h.stats.reusedFiles} referenced (${humanBytes(h.stats.reusedFileBytes)}), ${h.stats.deltaFiles} deltas (${humanBytes(h.stats.deltaTargetBytes)}), ${h.stats.newFiles} new (${humanBytes(h.stats.newDataBytes)})`);
  return lines.join('\n') + '\n';
}

/** `patch push` and `bundle push`: the file as an OCI artifact in a registry. */
export function registerPush(parent: Command, kind: 'patch' | 'bundle'): void {
  imageOptions(
    parent
      .command('push')
      .description(`push a ${kind} to a registry as an OCI artifact (artifactType application/vnd.layerwise.${kind}.v1)`)
      .argument(`<${kind}>`, `${kind} file`)
      .argument('<destination>', 'docker://REGISTRY/REPO:TAG')
      .option('--json', 'machine-readable output'),
  ).action(async (file: string, dest: string, flags: CommonFlags) => {
    const { pushPatchArtifact } = await patchArtifact();
    const r = await pushPatchArtifact(file, dest, registryOptions(flags));
    if (flags.json) printJson(r);
    else process.stdout.write(`pushed ${file} (${humanBytes(r.bytes)}) to ${dest}\n  manifest ${r.manifestDigest}\n`);
  });
}
