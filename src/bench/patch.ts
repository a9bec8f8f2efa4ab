#!/usr/bin/env node
/**
 * `npm run bench`: layerwise patches beside the anchors, measured in the same run on the same pairs
 * (../shared/scenarios/README.md). Builds the scenario images first if they are missing (root, about
 * 10 minutes). Prints a markdown table; raw figures go to bench-out/patch-results.json.
 *
 *   npm run bench [-- --scenarios DIR] [--quick] [--big] [--only 1->2,1->3]
 *
 * --quick skips zstd --patch-from (minutes per pair); --big adds a generated 3 GB pair.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateBigPair } from './big-image.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repo, 'dist/cli/main.js');
const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const scenarios = path.resolve(opt('--scenarios') ?? process.env.LAYERWISE_SCENARIOS ?? path.join(repo, 'bench-out/scenarios'));
const work = path.join(repo, 'bench-out/work');

interface Measured {
  bytes?: number;
  seconds: number;
  rssKB: number;
  ok: boolean;
  note?: string;
  /** Wall times of every run, when the figure is the median of several. */
  runs?: number[];
}

/** Timed runs of our own tools and the hashing floor: the median of RUNS (the VM's disk and neighbours vary a lot). */
const RUNS = 3;

/** Runs `run` RUNS times (`between` before each but the first): the median run, the highest RSS, every time. */
function measureRuns(run: () => Measured, between?: () => void): Measured {
  const runs: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i > 0) between?.();
    runs.push(run());
  }
  const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(RUNS / 2)]!;
  const failed = runs.find((r) => !r.ok);
  return { ...(failed ?? median), seconds: median.seconds, rssKB: Math.max(...runs.map((r) => r.rssKB)), ok: !failed, runs: runs.map((r) => r.seconds) };
}

/** Runs a shell command under /usr/bin/time; bytes = size of `outFile` or the number stdout printed. */
function measure(cmd: string, outFile?: string): Measured {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'sh', '-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [secs, rss] = last.split(' ').map(Number);
  let bytes: number | undefined;
  if (outFile && existsSync(outFile)) bytes = statSync(outFile).size;
  else if (/^\d+\s*$/.test(r.stdout)) bytes = Number(r.stdout.trim());
  return { bytes, seconds: secs ?? NaN, rssKB: rss ?? NaN, ok: r.status === 0, ...(r.status === 0 ? {} : { note: r.stderr.trim().split('\n').slice(-3, -1).join(' ').slice(0, 160) }) };
}

function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

function ensureScenarios(): void {
  if (existsSync(path.join(scenarios, 'webapp_3.tar')) && existsSync(path.join(scenarios, 'webapp_1-rebuilt.tar'))) return;
  const build = path.resolve(repo, '../shared/scenarios/build.sh');
  process.stderr.write(`building scenarios in ${scenarios} with ${build} (about 10 minutes)\n`);
  mkdirSync(scenarios, { recursive: true });
  execFileSync('bash', [build, scenarios], { stdio: 'inherit' });
}

interface Pair {
  name: string;
  old: string; // transport reference
  next: string;
  oldTar: string; // docker-archive files for the anchors
  newTar: string;
  appDir?: string;
  out: (dir: string) => string;
}

/** Anchor: only the layers the old image lacks (by diffID), plus config and manifest, zstd -19 --long=27. */
function missingLayersCmd(oldTar: string, newTar: string): string {
  const list = (t: string) => JSON.parse(sh(`tar -xOf '${t}' manifest.json`)) as { Config: string; Layers: string[] }[];
  const diffIds = (t: string) => {
    const m = list(t)[0]!;
    const cfg = JSON.parse(sh(`tar -xOf '${t}' '${m.Config}'`)) as { rootfs: { diff_ids: string[] } };
    return { m, ids: cfg.rootfs.diff_ids };
  };
  const o = diffIds(oldTar);
  const n = diffIds(newTar);
  const have = new Set(o.ids);
  const members = n.m.Layers.filter((_, i) => !have.has(n.ids[i]!));
  return `tar -xOf '${newTar}' ${[...members, n.m.Config, 'manifest.json'].map((x) => `'${x}'`).join(' ')} | zstd -19 --long=27 -q -c | wc -c`;
}

function nodeSha256Cmd(files: string[]): string {
  const script = `const {createReadStream}=require('fs');const {createHash}=require('crypto');(async()=>{for(const f of process.argv.slice(1)){const h=createHash('sha256');for await(const c of createReadStream(f,{highWaterMark:1<<20}))h.update(c);h.digest();}})()`;
  return `node -e "${script}" ${files.map((f) => `'${f}'`).join(' ')}`;
}

function imageId(ref: string): string {
  return (JSON.parse(sh(`node '${cli}' inspect --json '${ref}'`)) as { imageId: string }).imageId;
}

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error('run `npm run build` first');
  ensureScenarios();
  mkdirSync(work, { recursive: true });
  const s = (f: string) => path.join(scenarios, f);
  const pairs: Pair[] = [
    { name: '1 -> 2', old: `docker-archive:${s('webapp_1.tar')}`, next: `docker-archive:${s('webapp_2.tar')}`, oldTar: s('webapp_1.tar'), newTar: s('webapp_2.tar'), appDir: s('app-v2'), out: (d) => `docker-archive:${d}/out.tar` },
    { name: '1 -> 3', old: `docker-archive:${s('webapp_1.tar')}`, next: `docker-archive:${s('webapp_3.tar')}`, oldTar: s('webapp_1.tar'), newTar: s('webapp_3.tar'), out: (d) => `docker-archive:${d}/out.tar` },
    { name: '1 -> 1-rebuilt', old: `docker-archive:${s('webapp_1.tar')}`, next: `docker-archive:${s('webapp_1-rebuilt.tar')}`, oldTar: s('webapp_1.tar'), newTar: s('webapp_1-rebuilt.tar'), out: (d) => `docker-archive:${d}/out.tar` },
    { name: 'oci/ 1 -> 2', old: `oci:${s('oci')}:1`, next: `oci:${s('oci')}:2`, oldTar: s('webapp_1.tar'), newTar: s('webapp_2.tar'), appDir: s('app-v2'), out: (d) => `oci:${d}/out:2` },
  ];
  let copyReport = '';
  if (args.includes('--big')) {
    const bigDir = path.join(repo, 'bench-out/big');
    mkdirSync(bigDir, { recursive: true });
    if (!existsSync(path.join(bigDir, 'big_2.tar'))) {
      process.stderr.write('generating the 3 GB pair...\n');
      await generateBigPair(bigDir);
    }
    pairs.push({ name: 'big 3 GB', old: `docker-archive:${bigDir}/big_1.tar`, next: `docker-archive:${bigDir}/big_2.tar`, oldTar: `${bigDir}/big_1.tar`, newTar: `${bigDir}/big_2.tar`, out: (d) => `docker-archive:${d}/out.tar` });
    // Issue 2's memory check: copying a multi-GB docker-archive into an OCI layout, every blob verified.
    const out = path.join(work, 'big-oci');
    rmSync(out, { recursive: true, force: true });
    sh(`cat '${bigDir}/big_1.tar' > /dev/null`);
    const copy = measureRuns(() => measure(`node '${cli}' copy -q 'docker-archive:${bigDir}/big_1.tar' 'oci:${out}:1'`), () => rmSync(out, { recursive: true, force: true }));
    const sha = measureRuns(() => measure(nodeSha256Cmd([`${bigDir}/big_1.tar`])));
    const bytes = statSync(`${bigDir}/big_1.tar`).size;
    rmSync(out, { recursive: true, force: true });
    copyReport = `| copy docker-archive -> oci, ${(bytes / 1e9).toFixed(2)} GB | ${fmtRun(copy)}${copy.ok ? '' : ' FAILED'} | node sha256 ${fmtRun(sha)} |\n`;
  }
  const only = opt('--only')?.split(',');
  const results: Record<string, Record<string, Measured>> = {};
  for (const p of only ? pairs.filter((x) => only.includes(x.name.replace(/ /g, ''))) : pairs) {
    const d = path.join(work, p.name.replace(/[^a-z0-9]+/gi, '_'));
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    const r: Record<string, Measured> = {};
    process.stderr.write(`== ${p.name}\n`);
    const patchFile = path.join(d, 'update.lwp');
    // Page cache warm for everyone: read the inputs once.
    sh(`cat '${p.oldTar}' '${p.newTar}' > /dev/null`);
    r.read = measureRuns(() => measure(`cat '${p.oldTar}' '${p.newTar}' > /dev/null`));
    r.sha256In = measureRuns(() => measure(nodeSha256Cmd([p.oldTar, p.newTar])));
    r.sha256Out = measureRuns(() => measure(nodeSha256Cmd([p.newTar])));
    // The floor for writing the output anywhere: the new image copied and fsynced (apply must do at least this).
    const dropCopy = () => rmSync(`${d}/copy.tar`, { force: true });
    r.writeOut = measureRuns(() => measure(`cp '${p.newTar}' '${d}/copy.tar' && sync -f '${d}/copy.tar'`), dropCopy);
    dropCopy();
    r.create = measureRuns(() => measure(`node '${cli}' patch create -q --from '${p.old}' --to '${p.next}' -o '${patchFile}'`, patchFile));
    const dropOut = () => {
      rmSync(path.join(d, 'out.tar'), { force: true });
      rmSync(path.join(d, 'out'), { recursive: true, force: true });
    };
    r.apply = measureRuns(() => measure(`node '${cli}' patch apply -q '${patchFile}' --from '${p.old}' --to '${p.out(d)}'`), dropOut);
    r.apply!.ok = r.apply!.ok && imageId(p.out(d)) === imageId(p.next);
    dropOut();
    r.gzip = measure(`gzip -6 -c '${p.newTar}' | wc -c`);
    r.missing = measure(missingLayersCmd(p.oldTar, p.newTar));
    if (p.appDir && existsSync(p.appDir)) r.appTarGz = measure(`tar -C '${p.appDir}' -czf - . | wc -c`);
    r.xdelta = measure(`xdelta3 -e -9 -f -B 2147483648 -s '${p.oldTar}' '${p.newTar}' '${d}/xd.out'`, `${d}/xd.out`);
    rmSync(`${d}/xd.out`, { force: true });
    if (!quick) {
      r.zstdPatch = measure(`zstd -19 --long=31 -q -f --patch-from='${p.oldTar}' '${p.newTar}' -o '${d}/zp.out'`, `${d}/zp.out`);
      rmSync(`${d}/zp.out`, { force: true });
    }
    results[p.name] = r;
    process.stderr.write(`   patch ${r.create!.bytes} B, create ${r.create!.runs?.join(' / ')} s, apply ${r.apply!.runs?.join(' / ')} s\n`);
  }
  if (copyReport) process.stdout.write(`\n| operation | layerwise | reference |\n|---|---|---|\n${copyReport}`);
  writeFileSync(path.join(repo, 'bench-out/patch-results.json'), JSON.stringify({ when: new Date().toISOString(), machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB`, load: os.loadavg(), results }, null, 2));
  process.stdout.write(report(results));
}

function fmtBytes(m: Measured | undefined): string {
  if (!m) return 'n/a';
  if (!m.ok || m.bytes === undefined) return `failed${m.note ? ` (${m.note})` : ''}`;
  return m.bytes.toLocaleString('en-US');
}
function fmtRun(m: Measured | undefined): string {
  if (!m) return '';
  return `${m.seconds.toFixed(2)} s, ${Math.round(m.rssKB / 1024)} MB`;
}

export function report(results: Record<string, Record<string, Measured>>): string {
  const lines: string[] = [];
  lines.push('| pair | layerwise patch | create | apply | whole image gzip -6 | missing layers zstd -19 | app folder tar.gz | xdelta3 -9 | zstd --patch-from | best anchor | ratio |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    const anchors = [r.gzip, r.missing, r.appTarGz, r.xdelta, r.zstdPatch].filter((m): m is Measured => !!m && m.ok && m.bytes !== undefined);
    const best = Math.min(...anchors.map((m) => m.bytes!));
    const ratio = r.create?.bytes ? (r.create.bytes / best).toFixed(2) : 'n/a';
    lines.push(
      `| ${name} | ${fmtBytes(r.create)} | ${fmtRun(r.create)} | ${fmtRun(r.apply)}${r.apply?.ok ? '' : ' FAILED'} | ${fmtBytes(r.gzip)} (${fmtRun(r.gzip)}) | ${fmtBytes(r.missing)} | ${r.appTarGz ? fmtBytes(r.appTarGz) : 'n/a'} | ${fmtBytes(r.xdelta)} (${fmtRun(r.xdelta)}) | ${r.zstdPatch ? `${fmtBytes(r.zstdPatch)} (${fmtRun(r.zstdPatch)})` : 'skipped'} | ${best.toLocaleString('en-US')} | ${ratio}x |`,
    );
  }
  lines.push('');
  lines.push('| pair | read inputs (cat) | node sha256 over old+new | create / sha256 | node sha256 over new | write new + fsync (cp, sync) | apply / sha256 |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    lines.push(`| ${name} | ${r.read?.seconds.toFixed(2)} s | ${r.sha256In?.seconds.toFixed(2)} s | ${(r.create!.seconds / r.sha256In!.seconds).toFixed(2)}x | ${r.sha256Out?.seconds.toFixed(2)} s | ${r.writeOut?.seconds.toFixed(2)} s | ${(r.apply!.seconds / r.sha256Out!.seconds).toFixed(2)}x |`);
  }
  lines.push('');
  lines.push(`Times of layerwise, cat, sha256 and cp are the median of ${RUNS} runs (all runs in bench-out/patch-results.json); the anchors ran once.`);
  return lines.join('\n') + '\n';
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
