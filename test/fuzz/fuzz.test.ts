/**
 * The fuzz targets of targets.ts under fast-check. In `npm test` each runs a bounded number of inputs
 * (LW_FUZZ_RUNS, default 150); `npm run fuzz -- --seconds N` runs each for N seconds (LW_FUZZ_SECONDS)
 * and records the number of inputs in LW_FUZZ_REPORT. An input that takes over 20 s counts as a hang;
 * a process grown past 1.5 GiB resident (buffers live outside the JS heap limit) as an unbounded allocation.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { removeFuzzFiles, TARGETS } from './targets.js';

const seconds = Number(process.env.LW_FUZZ_SECONDS ?? 0);
const runs = Number(process.env.LW_FUZZ_RUNS ?? 150);
const seed = Number(process.env.LW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const only = process.env.LW_FUZZ_TARGET;
const MAX_RSS = 1.5 * 1024 * 1024 * 1024;

afterAll(() => removeFuzzFiles());

describe(`fuzz targets (seed ${seed})`, () => {
  for (const t of TARGETS) {
    if (only && t.name !== only) continue;
    it(
      `${t.name}: ${t.what}`,
      async () => {
        let inputs = 0;
        const started = Date.now();
        const params = seconds > 0 ? { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false } : { numRuns: runs };
        try {
          await fc.assert(
            fc.asyncProperty(t.arb(), async (input) => {
              inputs++;
              await t.run(input as never);
              if (inputs % 64 === 0 && process.memoryUsage.rss() > MAX_RSS) throw new Error(`unbounded allocation: ${process.memoryUsage.rss()} bytes resident`);
            }),
            { ...params, seed, timeout: 20_000 },
          );
        } finally {
          const line = { target: t.name, inputs, ms: Date.now() - started, seed };
          if (process.env.LW_FUZZ_REPORT) appendFileSync(process.env.LW_FUZZ_REPORT, JSON.stringify(line) + '\n');
          if (seconds > 0) console.log(`fuzz ${t.name}: ${inputs} inputs in ${Math.round(line.ms / 1000)} s (seed ${seed})`);
        }
      },
      seconds > 0 ? seconds * 1000 + 120_000 : 120_000,
    );
  }
});
