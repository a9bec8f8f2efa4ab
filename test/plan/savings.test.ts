import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planDockerfiles } from '../../src/plan/plan.js';
import { findDockerfiles } from '../../src/plan/inputs.js';
import { parseFleet } from '../../src/plan/fleet.js';
import { computeSavings } from '../../src/plan/savings.js';
import { isLayerwiseError } from '../../src/errors.js';

const dir = mkdtempSync('/tmp/lw-plan-savings-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function service(name: string, files: Record<string, string>): void {
  mkdirSync(path.join(dir, name), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, name, f), text);
}

// Three services on one FROM image. a and b have the same system packages and the same Python
// dependencies (b installs them after `COPY . .`, which the plan reorders); c shares the packages only.
service('a', {
  Dockerfile: 'FROM base:1\nRUN apt-get install -y x\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n',
  'requirements.txt': 'flask==3.0.3\n',
  'app.py': 'print("a")\n',
});
service('b', {
  Dockerfile: 'FROM base:1\nRUN apt-get install -y x\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n',
  'requirements.txt': 'flask==3.0.3\n',
  'app.py': 'print("b")\n',
});
service('c', {
  Dockerfile: 'FROM base:1\nRUN apt-get install -y x\nCOPY c.py /app/\n',
  'c.py': 'print("c")\n',
});

const FLEET = `
period: week
hosts:
  - name: web
    count: 2
    services: [a, b]
  - name: jobs
    services: [b, c]
images:
  base:1: { size: 100MB, changes: 1 }
steps:
  - match: apt-get install
    size: 40MB
    changes: 1
  - match: COPY requirements.txt
    size: 1KB
    changes: 0
  - match: pip install
    size: 60MB
    changes: 2
  - match: COPY . .
    size: 5MB
    changes: 10
  - match: COPY c.py
    size: 2MB
    changes: 4
`;

const MB = 1e6;
const KB = 1e3;

describe('savings on a small fleet, checked against a hand computation', () => {
  it('computes pulls and registry storage before and after the plan', async () => {
    const plan = await planDockerfiles(await findDockerfiles([dir]));
    // The plan: base-1 = base:1 + apt (a, b, c); base-2 = base-1 + WORKDIR, COPY requirements.txt, pip (a, b).
    expect(plan.bases.map((b) => [b.name, b.services])).toEqual([
      ['layerwise/base-1-base-apt', ['a', 'b', 'c']],
      ['layerwise/base-2-pip', ['a', 'b']],
    ]);
    const s = computeSavings(plan, parseFleet(FLEET));

    // Versions per week of each layer = its own changes + the changes of everything below it.
    // FROM 1 | apt 1+1=2 | requirements.txt 2+0=2 | pip 2+2=4 | a's code 4+10=14
    // b before the plan (pip after COPY . .): FROM 1 | apt 2 | code 2+10=12 | pip 12+2=14
    // c: FROM 1 | apt 2 | c.py 2+4=6
    const before = {
      // web hosts run a and b: the FROM image is shared, every other layer is each service's own.
      webCold: 100 * MB + (40 * MB + 1 * KB + 60 * MB + 5 * MB) + (40 * MB + 5 * MB + 60 * MB),
      jobsCold: 100 * MB + (40 * MB + 5 * MB + 60 * MB) + (40 * MB + 2 * MB),
      webWeek: 1 * 100 * MB + (2 * 40 * MB + 2 * 1 * KB + 4 * 60 * MB + 14 * 5 * MB) + (2 * 40 * MB + 12 * 5 * MB + 14 * 60 * MB),
      jobsWeek: 1 * 100 * MB + (2 * 40 * MB + 12 * 5 * MB + 14 * 60 * MB) + (2 * 40 * MB + 6 * 2 * MB),
    };
    expect(s.before.coldPull).toBe(2 * before.webCold + 1 * before.jobsCold); // 867_002_000
    expect(s.before.coldPull).toBe(867_002_000);
    expect(s.before.periodPull).toBe(2 * before.webWeek + 1 * before.jobsWeek); // 4_112_004_000
    expect(s.before.periodPull).toBe(4_112_004_000);
    // The registry holds every distinct layer of a, b and c once.
    expect(s.before.registry).toBe(100 * MB + (40 * MB + 1 * KB + 60 * MB + 5 * MB) + (40 * MB + 5 * MB + 60 * MB) + (40 * MB + 2 * MB));
    expect(s.before.registryPerPeriod).toBe(
      100 * MB + (2 * 40 * MB + 2 * 1 * KB + 4 * 60 * MB + 14 * 5 * MB) + (2 * 40 * MB + 12 * 5 * MB + 14 * 60 * MB) + (2 * 40 * MB + 6 * 2 * MB),
    );

    // After: apt, requirements.txt and pip are one layer each, whoever runs them; b's pip now sits below its code.
    // FROM 1 | apt 2 | requirements.txt 2 | pip 4 | a's code 14 | b's code 14 | c.py 6
    const after = {
      webCold: 100 * MB + 40 * MB + 1 * KB + 60 * MB + 5 * MB + 5 * MB,
      jobsCold: 100 * MB + 40 * MB + 1 * KB + 60 * MB + 5 * MB + 2 * MB,
      webWeek: 100 * MB + 2 * 40 * MB + 2 * 1 * KB + 4 * 60 * MB + 14 * 5 * MB + 14 * 5 * MB,
      jobsWeek: 100 * MB + 2 * 40 * MB + 2 * 1 * KB + 4 * 60 * MB + 14 * 5 * MB + 6 * 2 * MB,
    };
    expect(s.after.coldPull).toBe(2 * after.webCold + after.jobsCold); // 627_003_000
    expect(s.after.coldPull).toBe(627_003_000);
    expect(s.after.periodPull).toBe(2 * after.webWeek + after.jobsWeek); // 1_622_006_000
    expect(s.after.periodPull).toBe(1_622_006_000);
    // The bases are pushed too, but their layers are the services' lower layers: nothing extra.
    expect(s.after.registry).toBe(100 * MB + 40 * MB + 1 * KB + 60 * MB + 5 * MB + 5 * MB + 2 * MB);
    expect(s.after.registryPerPeriod).toBe(100 * MB + 2 * 40 * MB + 2 * 1 * KB + 4 * 60 * MB + 14 * 5 * MB + 14 * 5 * MB + 6 * 2 * MB);

    expect(s.saved).toEqual({ coldPull: 239_999_000, periodPull: 2_489_998_000, registry: 140_000_000, registryPerPeriod: 990_000_000 });
    expect(s.before.hosts).toEqual([
      { name: 'web', count: 2, coldPull: 2 * before.webCold, periodPull: 2 * before.webWeek },
      { name: 'jobs', count: 1, coldPull: before.jobsCold, periodPull: before.jobsWeek },
    ]);
    expect(s.period).toBe('week');
    // Every size came from the fleet file: the report says so.
    expect(s.notes.join('\n')).toMatch(/estimated sizes/);
    expect(s.before.exact).toBe(false);
  });

  it('refuses a fleet that runs a service the plan does not know, and bad fleet files, with FLEET_INVALID', async () => {
    const plan = await planDockerfiles(await findDockerfiles([dir]));
    const bad = [
      'hosts:\n  - services: [nope]\n',
      'hosts: []\n',
      'hosts:\n  - services: [a]\n    count: 0\n',
      'hosts:\n  - services: [a]\nsteps:\n  - match: x\n    size: lots\n',
      'hosts:\n  - services: [a]\nsurprise: 1\n',
      'hosts: [\n',
    ];
    for (const text of bad) {
      let err: unknown;
      try {
        computeSavings(plan, parseFleet(text, 'fleet.yaml'));
      } catch (e) {
        err = e;
      }
      expect(isLayerwiseError(err, 'FLEET_INVALID'), text).toBe(true);
    }
  });
});
