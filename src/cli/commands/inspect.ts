import type { Command } from 'commander';
import { inspectImage } from '../../image/inspect.js';
import { openImage } from '../../transports/index.js';
import { color, humanBytes, printJson, shortDigest, table } from '../format.js';
import { imageOptions, openOptions, type CommonFlags } from '../options.js';

export function register(program: Command): void {
  imageOptions(
    program
      .command('inspect')
      .description('show an image: manifest, config, and each layer with its size and the step that made it')
      .argument('<image>', 'TRANSPORT:REF, e.g. docker-archive:app.tar, oci:dir:tag, docker-daemon:app:1, docker://host/repo:tag')
      .option('--json', 'machine-readable output')
      .option('--raw', 'print the manifest bytes exactly as stored'),
  ).action(async (ref: string, flags: CommonFlags & { raw?: boolean }) => {
    const image = await openImage(ref, openOptions(flags));
    try {
      if (flags.raw) {
        process.stdout.write(image.manifestBytes);
        return;
      }
      const r = inspectImage(image);
      if (flags.json) {
        printJson(r);
        return;
      }
      const lines = [
        `${color.bold('Image')}      ${r.reference}${r.names.length ? '  (' + r.names.join(', ') + ')' : ''}`,
        `${color.bold('Image ID')}   ${r.imageId}`,
        `${color.bold('Manifest')}   ${r.manifestDigest}  ${color.dim(r.mediaType)}`,
        `${color.bold('Platform')}   ${r.platform}${r.created ? '   created ' + r.created : ''}`,
      ];
      if (r.config.entrypoint) lines.push(`${color.bold('Entrypoint')} ${JSON.stringify(r.config.entrypoint)}`);
      if (r.config.cmd) lines.push(`${color.bold('Cmd')}        ${JSON.stringify(r.config.cmd)}`);
      if (r.config.workingDir) lines.push(`${color.bold('WorkingDir')} ${r.config.workingDir}`);
      if (r.config.user) lines.push(`${color.bold('User')}       ${r.config.user}`);
      if (r.config.exposedPorts?.length) lines.push(`${color.bold('Ports')}      ${r.config.exposedPorts.join(' ')}`);
      for (const e of r.config.env ?? []) lines.push(`${color.bold('Env')}        ${e}`);
      lines.push('');
      const rows = [['#', 'SIZE', 'DIGEST', 'DIFF ID', 'CREATED BY'].map((h) => color.dim(h))];
      for (const l of r.layers) {
        rows.push([String(l.index), humanBytes(l.size), shortDigest(l.digest), shortDigest(l.diffId), l.step.length > 100 ? l.step.slice(0, 99) + '…' : l.step]);
      }
      lines.push(table(rows, ['r', 'r', 'l', 'l', 'l']));
      lines.push(`\n${r.layers.length} layers, ${humanBytes(r.totalSize)}`);
      process.stdout.write(lines.join('\n') + '\n');
    } finally {
      await image.close();
    }
  });
}
