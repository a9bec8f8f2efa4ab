#!/usr/bin/env node
// The long fuzz run: `npm run fuzz -- --seconds 120` runs every target of test/fuzz/targets.ts for that
// many seconds (or `--runs N` inputs each), in a child with a 1 GiB heap (an unbounded allocation crashes
// it) and a watchdog (a synchronous hang is killed and reported with the seed). Options: --seconds N,
// --runs N, --seed N, --target NAME. Prints inputs per target; exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const seconds = Number(opt('seconds', args.includes('--runs') ? '0' : '60'));
const runs = Number(opt('runs', '0'));
const seed = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
const target = opt('target', '');
const targets = 9;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'lw-fuzz-report-'));
const report = path.join(dir, 'report.jsonl');
const env = {
  ...process.env,
  LW_FUZZ_SEED: String(seed),
  LW_FUZZ_REPORT: report,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=1024`.trim(),
  ...(seconds > 0 ? { LW_FUZZ_SECONDS: String(seconds) } : {}),
  ...(runs > 0 ? { LW_FUZZ_RUNS: String(runs) } : {}),
  ...(target ? { LW_FUZZ_TARGET: target } : {}),
};
console.log(`fuzz: ${seconds > 0 ? `${seconds} s` : `${runs} inputs`} per target, seed ${seed} (--seed ${seed} repeats it)`);
const started = Date.now();
const child = spawn(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/fuzz/fuzz.test.ts', '--reporter', 'verbose'], { cwd: root, env, stdio: 'inherit' });
const limit = seconds > 0 ? (seconds * (target ? 1 : targets) + 300) * 1000 : 3_600_000;
let hung = false;
const watchdog = setTimeout(() => {
  hung = true;
  console.error(`fuzz: no result after ${Math.round(limit / 1000)} s: a hang; killing (seed ${seed})`);
  child.kill('SIGKILL');
}, limit);
child.on('close', (code, signal) => {
  clearTimeout(watchdog);
  const lines = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  rmSync(dir, { recursive: true, force: true });
  let total = 0;
  console.log('\nfuzz summary');
  for (const l of lines) {
    total += l.inputs;
    console.log(`  ${l.target.padEnd(24)} ${String(l.inputs).padStart(10)} inputs  ${String(Math.round(l.ms / 1000)).padStart(5)} s`);
  }
  console.log(`  ${'total'.padEnd(24)} ${String(total).padStart(10)} inputs  ${String(Math.round((Date.now() - started) / 1000)).padStart(5)} s  seed ${seed}`);
  if (hung || signal) {
    console.error(`fuzz: the run was killed (${signal ?? 'watchdog'}): a hang or an unbounded allocation`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
