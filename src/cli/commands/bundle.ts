import type { Command } from 'commander';
import { applyBundle } from '../../deploy/apply-bundle.js';
import { createBundle, estimateBundle, pairsFromCompose, parsePair, type BundlePair } from '../../deploy/bundle.js';
import { verifyPatch } from '../../patch/apply.js';
import { describePatch } from '../../patch/inspect.js';
import { LayerwiseError } from '../../errors.js';
import { color, humanBytes, printJson, shortDigest, table } from '../format.js';
import { imageOptions, openOptions, progressFor, type CommonFlags } from '../options.js';
import { describeText, registerPush, withLocalPatch } from './patch.js';
import { registryOptions } from '../options.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface CreateFlags extends CommonFlags {
  output: string;
  pair?: string[];
  compose?: string;
  fromEnv?: string;
  toEnv?: string;
  transport?: 'docker-daemon' | 'docker';
  dryRun?: boolean;
}

async function resolvePairs(flags: CreateFlags): Promise<{ pairs: BundlePair[]; env?: Record<string, string> }> {
  if (flags.compose) {
    if (!flags.fromEnv || !flags.toEnv) throw new LayerwiseError('USAGE', '--compose needs --from-env (what the site runs) and --to-env (the release)');
    if (flags.transport && flags.transport !== 'docker-daemon' && flags.transport !== 'docker') throw new LayerwiseError('USAGE', '--transport is docker-daemon or docker');
    return pairsFromCompose({ compose: flags.compose, fromEnv: flags.fromEnv, toEnv: flags.toEnv, transport: flags.transport });
  }
  if (!flags.pair?.length) throw new LayerwiseError('USAGE', 'give --pair OLD=NEW (repeatable) or --compose FILE --from-env A --to-env B');
  return { pairs: flags.pair.map(parsePair) };
}

export function register(program: Command): void {
  const bundle = program.command('bundle').description('release bundles: every image of a deployment in one file');

  imageOptions(
    bundle
      .command('create')
      .description('make one file that updates every image of a deployment')
      .requiredOption('-o, --output <file>', 'bundle file to write (.lwb)')
      .option('--pair <old=new>', 'an image update, transports on both sides (repeatable)', collect)
      .option('--compose <file>', 'a docker-compose.yml whose services name their images with ${VARIABLES}')
      .option('--from-env <file>', '.env with the variables of what the site runs')
      .option('--to-env <file>', '.env with the variables of the release')
      .option('--transport <docker-daemon|docker>', 'where compose images are read from', 'docker-daemon')
      .option('--dry-run', 'only estimate what would be shipped per image, from manifests')
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (flags: CreateFlags) => {
    const progress = progressFor(flags);
    const { pairs, env } = await resolvePairs(flags);
    if (flags.dryRun) {
      const est = await estimateBundle(pairs, openOptions(flags, progress));
      if (flags.json) return printJson(est);
      const rows = [['SERVICES', 'FROM', 'TO', 'LAYERS', 'SITE HAS', 'NEW', 'AT MOST'].map((h) => color.dim(h))];
      for (const i of est.images) rows.push([i.services.join(',') || '-', i.from, i.to, String(i.layers), String(i.reusedLayers), String(i.newLayers), i.unchanged ? 'unchanged' : humanBytes(i.newLayerBytes)]);
      process.stdout.write(`${table(rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r'])}\n\nat most ${humanBytes(est.totalNewLayerBytes)} (the compressed layers the site lacks, each once); the bundle carries only their changed files, so it is usually far smaller\n`);
      return;
    }
    const r = await createBundle({ pairs, output: flags.output, ...(env ? { env } : {}), open: openOptions(flags, progress), progress, tool: `layerwise/${program.version()}` });
    if (flags.json) return printJson({ output: r.output, bytes: r.bytes, targets: r.header.targets.map((t) => ({ names: t.names, services: t.services, imageId: t.imageId })), env: r.header.env, stats: r.header.stats });
    if (!flags.quiet) {
      process.stdout.write(`wrote ${r.output}: ${humanBytes(r.bytes)} (${r.bytes} bytes) for ${r.header.targets.length} image(s)\n`);
      for (const t of r.header.targets) process.stdout.write(`  ${(t.services ?? []).join(', ') || '-'}: ${t.names.join(', ')} (${shortDigest(t.imageId)})\n`);
      if (r.header.env) process.stdout.write(`  sets ${Object.entries(r.header.env).map(([k, v]) => `${k}=${v}`).join(' ')} at the site (bundle apply --env-file)\n`);
    }
  });

  imageOptions(
    bundle
      .command('apply')
      .description('rebuild and verify every image of a bundle, then load or write them all')
      .argument('<bundle>', 'bundle file, or docker://REGISTRY/REPO:TAG (a pushed bundle)')
      .requiredOption('--to <destination>', 'docker-daemon (DOCKER_HOST), oci:DIR, or docker-archive:DIR/')
      .option('--from <image>', 'an image the site has (repeatable; default: the old images the bundle names)', collect)
      .option('--env-file <file>', 'update the release variables (e.g. TAG) in this .env so `docker compose up -d` deploys it')
      .option('--full-load', 'send complete archives to the engine even when it has some layers')
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (file: string, flags: CommonFlags & { to: string; from?: string[]; envFile?: string; fullLoad?: boolean }) => {
    const progress = progressFor(flags);
    const r = await withLocalPatch(file, registryOptions(flags), (local) => applyBundle({ bundle: local, to: flags.to, from: flags.from, envFile: flags.envFile, open: openOptions(flags, progress), progress, fullEngineLoad: flags.fullLoad }));
    if (flags.json) return printJson(r);
    if (flags.quiet) return;
    process.stdout.write(`verified ${r.images.length} image(s) (${humanBytes(r.verifiedBytes)} rebuilt and checked) before writing any\n`);
    for (const i of r.images) {
      const how = i.load ? ` (${i.load.path === 'missing-layers' ? 'only missing layers sent' : 'full archive'}, ${humanBytes(i.load.bytesSent)})` : '';
      process.stdout.write(`  ${i.services.join(', ') || '-'}: ${i.names.join(', ')} -> ${i.destination}${how}\n`);
    }
    if (r.envUpdated) process.stdout.write(`  ${flags.envFile}: ${Object.entries(r.envUpdated).map(([k, v]) => `${k}=${v}`).join(' ')}; run: docker compose up -d\n`);
  });

  imageOptions(
    bundle
      .command('inspect')
      .description('list the images of a bundle, what each needs at the site, and sizes')
      .argument('<bundle>', 'bundle file, or docker://REGISTRY/REPO:TAG')
      .option('--json', 'machine-readable output'),
  ).action(async (file: string, flags: CommonFlags) => {
      const d = await withLocalPatch(file, registryOptions(flags), (local) => describePatch(local));
      if (flags.json) return printJson(d);
      process.stdout.write(describeText(d));
    });

  registerPush(bundle, 'bundle');

  imageOptions(
    bundle
      .command('verify')
      .description('check that a bundle rebuilds every image exactly from the site\'s images, writing nothing')
      .argument('<bundle>', 'bundle file, or docker://REGISTRY/REPO:TAG')
      .option('--from <image>', 'an image the site has (repeatable)', collect)
      .option('--json', 'machine-readable output')
      .option('-q, --quiet', 'no progress on stderr'),
  ).action(async (file: string, flags: CommonFlags & { from?: string[] }) => {
    const progress = progressFor(flags);
    const r = await withLocalPatch(file, registryOptions(flags), async (local) => {
      let from = flags.from;
      if (!from?.length) from = [...new Set((await describePatch(local)).header.requires.baseImages.map((b) => b.reference))];
      return verifyPatch({ patch: local, from, open: openOptions(flags, progress), progress });
    });
    if (flags.json) return printJson({ ok: true, ...r });
    if (!flags.quiet) process.stdout.write(`${color.green('ok')}: ${file} rebuilds ${r.targets.length} image(s) exactly (${humanBytes(r.bytes)} checked)\n`);
  });
}
