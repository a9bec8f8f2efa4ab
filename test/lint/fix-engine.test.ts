/**
 * --fix against a real engine: a Dockerfile with fixable problems, on the tiny busybox base with
 * shell-script stand-ins for apt-get and pip (they behave like the real tools where it matters:
 * update downloads lists, install needs them, pip keeps a download cache unless --no-cache-dir).
 * `layerwise lint --fix` rewrites it; both versions are built and run; the fixed image has the same
 * packages installed, no apt lists or pip cache, and fewer layers.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveEngine } from '../support/tools.js';
import { loadBusybox, startEngine, type TestEngine } from '../support/engine.js';
import { layerwise } from '../support/run.js';
import { cleanupContexts, writeContext } from './helpers.js';

const APT_GET = `#!/bin/sh
# stand-in for apt-get: "update" writes package lists, "install" needs them and records packages
cmd=""; recommends=yes; pkgs=""
for a in "$@"; do
  case "$a" in
    update|install|clean) [ -z "$cmd" ] && cmd=$a ;;
    --no-install-recommends) recommends=no ;;
    -*) ;;
    *) [ "$cmd" = install ] && pkgs="$pkgs $a" ;;
  esac
done
case "$cmd" in
  update) mkdir -p /var/lib/apt/lists && head -c 200000 /dev/zero > /var/lib/apt/lists/deb_main_Packages ;;
  install)
    [ -f /var/lib/apt/lists/deb_main_Packages ] || { echo "E: Unable to locate package$pkgs" >&2; exit 100; }
    mkdir -p /opt/installed
    for p in $pkgs; do
      echo "$p" > "/opt/installed/$p"
      if [ $recommends = yes ]; then echo "recommended by $p" > "/opt/installed/$p-recommends"; fi
    done ;;
  *) echo "apt-get: unsupported $cmd" >&2; exit 2 ;;
esac
exit 0
`;

const PIP = `#!/bin/sh
# stand-in for pip install: records packages; keeps a download cache unless --no-cache-dir
cmd=""; cache=yes; pkgs=""
for a in "$@"; do
  case "$a" in
    install) cmd=install ;;
    --no-cache-dir) cache=no ;;
    -*) ;;
    *) [ "$cmd" = install ] && pkgs="$pkgs $a" ;;
  esac
done
[ "$cmd" = install ] || exit 2
mkdir -p /opt/site-packages
for p in $pkgs; do
  echo "$p" > "/opt/site-packages/$p"
  if [ $cache = yes ]; then mkdir -p /root/.cache/pip && head -c 300000 /dev/zero > "/root/.cache/pip/$p.whl"; fi
done
`;

const DOCKERFILE = `FROM lwtest/busybox:1
COPY bin/ /usr/local/bin/
RUN apt-get update
RUN apt-get install -y curl ca-certificates
RUN pip install flask==3.0.3 gunicorn==22.0.0
RUN mkdir -p /app
CMD ["sh"]
`;

const PROBE = 'ls /opt/installed | sort | tr "\\n" " "; echo; ls /opt/site-packages | sort | tr "\\n" " "; echo; ls -A /var/lib/apt/lists 2>/dev/null | wc -l; ls -A /root/.cache/pip 2>/dev/null | wc -l';

const ok = haveEngine();
let engine: TestEngine | undefined;

beforeAll(async () => {
  if (!ok) return;
  engine = await startEngine('lint');
  await loadBusybox(engine);
});
afterAll(async () => {
  await engine?.stop();
  cleanupContexts();
});

describe.skipIf(!ok)('layerwise lint --fix with a real engine', () => {
  it('the fixed Dockerfile builds, installs the same packages, and leaves no lists or caches', async () => {
    const e = engine!;
    const dir = writeContext(DOCKERFILE, { 'bin/apt-get': APT_GET, 'bin/pip': PIP, '.dockerignore': 'Dockerfile.orig\n' });
    for (const b of ['apt-get', 'pip']) chmodSync(path.join(dir, 'bin', b), 0o755);
    writeFileSync(path.join(dir, 'Dockerfile.orig'), DOCKERFILE);

    const fix = await layerwise(['lint', '--fix', '--no-context', '--fail-on', 'never', 'Dockerfile'], { cwd: dir });
    expect(fix.stderr).toBe('');
    expect(fix.code).toBe(0);
    expect(fix.stdout).toContain('--- a/Dockerfile');
    const fixed = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    expect(fixed).not.toBe(DOCKERFILE);
    expect(fixed).toContain('--no-install-recommends');
    expect(fixed).toContain('--no-cache-dir');
    expect(fixed).toContain('rm -rf /var/lib/apt/lists/*');

    // Re-lint: nothing fixable left.
    const again = await layerwise(['lint', '--no-context', '--format', 'json', '--fail-on', 'never', 'Dockerfile'], { cwd: dir });
    const report = JSON.parse(again.stdout) as { summary: { fixable: number }; results: { findings: { ruleId: string }[] }[] };
    expect(report.summary.fixable).toBe(0);

    const built: Record<string, { probe: string; layers: number; size: number }> = {};
    for (const [tag, file] of [['orig', 'Dockerfile.orig'], ['fixed', 'Dockerfile']] as const) {
      const b = await e.docker(['build', '--network', 'none', '-q', '-f', file, '-t', `lwfix/${tag}:1`, '.'], { cwd: dir });
      expect(b.code, `${tag} build: ${b.stderr}`).toBe(0);
      const r = await e.docker(['run', '--rm', '--network', 'none', `lwfix/${tag}:1`, 'sh', '-c', PROBE]);
      expect(r.code).toBe(0);
      const insp = await e.docker(['image', 'inspect', '-f', '{{len .RootFS.Layers}} {{.Size}}', `lwfix/${tag}:1`]);
      const [layers, size] = insp.stdout.trim().split(' ').map(Number);
      built[tag] = { probe: r.stdout, layers: layers!, size: size! };
    }
    const [origPkgs, origSite, origLists, origCache] = built.orig!.probe.split('\n');
    const [fixPkgs, fixSite, fixLists, fixCache] = built.fixed!.probe.split('\n');
    // The original installed recommended extras, kept the lists and the pip cache.
    expect(origPkgs!.trim()).toBe('ca-certificates ca-certificates-recommends curl curl-recommends');
    expect(Number(origLists)).toBe(1);
    expect(Number(origCache)).toBe(2);
    // The fixed image: the same packages (without recommends), same Python packages, nothing left behind.
    expect(fixPkgs!.trim()).toBe('ca-certificates curl');
    expect(fixSite).toBe(origSite);
    expect(fixSite!.trim()).toBe('flask==3.0.3 gunicorn==22.0.0');
    expect(Number(fixLists)).toBe(0);
    expect(Number(fixCache)).toBe(0);
    // Four RUN layers became one; the image lost the lists (200 KB) and the pip cache (600 KB).
    expect(built.orig!.layers - built.fixed!.layers).toBe(3);
    expect(built.orig!.size - built.fixed!.size).toBeGreaterThan(700_000);
  });
});
