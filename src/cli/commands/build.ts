import type { Command } from 'commander';
import { buildImage } from '../../build/build.js';
import { parseAddSpec } from '../../build/add-spec.js';
import { LayerwiseError } from '../../errors.js';
import { layerCompression } from '../../model/media-types.js';
import { writeImage } from '../../transports/index.js';
import { humanBytes, printJson } from '../format.js';
import { imageOptions, openOptions, progressFor, writeOptions, type CommonFlags } from '../options.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function keyValues(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new LayerwiseError('USAGE', `${flag} ${kv}: write KEY=VALUE`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** --cmd and --entrypoint take a JSON array (exec form) or a plain string (run through /bin/sh -c, like Dockerfile shell form). */
function command(text: string | undefined, flag: string): string[] | undefined {
  if (text === undefined) return undefined;
  if (text.trim().startsWith('[')) {
    try {
      const v = JSON.parse(text) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // fall through
    }
    throw new LayerwiseError('USAGE', `${flag} ${text}: a JSON array of strings, or a shell command`);
  }
  return ['/bin/sh', '-c', text];
}

export function register(program: Command): void {
  imageOptions(
    program
      .command('build')
      .description('make a new image from a base image plus folders, without docker build or an engine (reproducible)')
      .requiredOption('--base <image>', 'the image to start from (any transport)')
      .requiredOption('--add <src:/dest>', 'a folder or file and where it goes in the image (repeatable; honours .dockerignore in the folder)', collect)
      .requiredOption('--to <destination>', 'where to write the new image (any transport)')
      .option('--replace', 'make each destination folder mirror its source (whiteouts for what is gone)')
      .option('--env <K=V>', 'set an environment variable (repeatable)', collect)
      .option('--label <K=V>', 'set a label (repeatable)', collect)
      .option('--workdir <dir>', 'working directory')
      .option('--cmd <cmd>', 'default command: JSON array or shell string')
      .option('--entrypoint <cmd>', 'entrypoint: JSON array or shell string')
      .option('--user <user>', 'user to run as')
      .option('--timestamp <seconds>', 'mtime and created time (default: SOURCE_DATE_EPOCH, else 0)')
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (flags: CommonFlags & { base: string; add: string[]; to: string; replace?: boolean; env?: string[]; label?: string[]; workdir?: string; cmd?: string; entrypoint?: string; user?: string; timestamp?: string }) => {
    const progress = progressFor(flags);
    if (flags.timestamp !== undefined && !/^\d+$/.test(flags.timestamp)) throw new LayerwiseError('USAGE', `--timestamp ${flags.timestamp}: seconds since the epoch`);
    const built = await buildImage({
      base: flags.base,
      adds: flags.add.map(parseAddSpec),
      replace: flags.replace,
      env: keyValues(flags.env, '--env'),
      labels: keyValues(flags.label, '--label'),
      workdir: flags.workdir,
      cmd: command(flags.cmd, '--cmd'),
      entrypoint: command(flags.entrypoint, '--entrypoint'),
      user: flags.user,
      timestamp: flags.timestamp !== undefined ? Number(flags.timestamp) : undefined,
      open: openOptions(flags, progress),
    });
    try {
      const image = built.image;
      const last = image.layers.length - 1;
      // Registries and layouts get the new layer compressed like the base's layers (docker-archive keeps tars).
      const baseCompression = image.layers.slice(0, last).map((l) => layerCompression(l.descriptor.mediaType)).find((c) => c && c !== 'none');
      const w = writeOptions(flags, progress);
      const res = await writeImage(image, flags.to, { ...w, ...(baseCompression && !w.compression ? { layerCompression: (i: number) => (i === last ? baseCompression : undefined) } : {}) });
      const layer = image.layers[last]!;
      if (flags.json) printJson({ destination: flags.to, imageId: image.id, manifestDigest: res.manifestDigest, layer: { diffId: layer.diffId, size: layer.uncompressedSize, entries: built.entries, whiteouts: built.whiteouts } });
      else if (!flags.quiet) {
        process.stdout.write(`built ${flags.to}\n  image ID ${image.id}\n  new layer ${layer.diffId} (${humanBytes(layer.uncompressedSize ?? 0)}, ${built.entries} entries${built.whiteouts ? `, ${built.whiteouts} whiteouts` : ''})\n`);
      }
    } finally {
      await built.dispose();
    }
  });
}
