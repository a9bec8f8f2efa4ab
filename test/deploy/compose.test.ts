import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pairsFromCompose } from '../../src/deploy/bundle.js';
import { isLayerwiseError } from '../../src/errors.js';

const dir = mkdtempSync('/tmp/lw-compose-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('compose files to bundle pairs', () => {
  const compose = file(
    'docker-compose.yml',
    [
      'services:',
      '  frontend:',
      '    image: acme/frontend:${TAG}.${PATCH_VERSION}',
      '  backend:',
      '    image: acme/backend:${TAG}.${PATCH_VERSION}',
      '    ports: ["8080:8080"]',
      '  inference:',
      '    image: ${REGISTRY:-registry.local:5000}/acme/inference:${INFER_TAG:-${TAG}}',
      '  backend-worker:',
      '    image: acme/backend:${TAG}.${PATCH_VERSION}',
      '',
    ].join('\n'),
  );
  const before = file('.env.1.0.0', 'TAG=1.0\nPATCH_VERSION=0\n');
  const after = file('.env.1.0.1', 'TAG=1.0\nPATCH_VERSION=1\nINFER_TAG=1.0.1\n');

  it('resolves every service for old and new variables, and records what changes', async () => {
    const { pairs, env } = await pairsFromCompose({ compose, fromEnv: before, toEnv: after });
    expect(pairs).toEqual([
      { service: 'frontend', from: 'docker-daemon:acme/frontend:1.0.0', to: 'docker-daemon:acme/frontend:1.0.1' },
      { service: 'backend', from: 'docker-daemon:acme/backend:1.0.0', to: 'docker-daemon:acme/backend:1.0.1' },
      { service: 'inference', from: 'docker-daemon:registry.local:5000/acme/inference:1.0', to: 'docker-daemon:registry.local:5000/acme/inference:1.0.1' },
      { service: 'backend-worker', from: 'docker-daemon:acme/backend:1.0.0', to: 'docker-daemon:acme/backend:1.0.1' },
    ]);
    expect(env).toEqual({ PATCH_VERSION: '1', INFER_TAG: '1.0.1' });
    const viaRegistry = await pairsFromCompose({ compose, fromEnv: before, toEnv: after, transport: 'docker' });
    expect(viaRegistry.pairs[0]!.to).toBe('docker://acme/frontend:1.0.1');
  });

  it('names the service when a variable is missing, and the file when YAML is broken', async () => {
    const partial = file('.env.partial', 'TAG=1.0\n');
    let err: unknown;
    try {
      await pairsFromCompose({ compose, fromEnv: partial, toEnv: after });
    } catch (e) {
      err = e;
    }
    expect(isLayerwiseError(err, 'COMPOSE_VARIABLE_MISSING')).toBe(true);
    expect((err as Error).message).toMatch(/service frontend.*PATCH_VERSION|PATCH_VERSION.*service frontend|service frontend/);
    expect((err as Error).message).toContain('PATCH_VERSION');
    const broken = file('broken.yml', 'services:\n  api:\n    image: [unclosed\n');
    err = undefined;
    try {
      await pairsFromCompose({ compose: broken, fromEnv: before, toEnv: after });
    } catch (e) {
      err = e;
    }
    expect(isLayerwiseError(err, 'COMPOSE_INVALID')).toBe(true);
    expect((err as Error).message).toContain('broken.yml');
    const noImage = file('noimage.yml', 'services:\n  api:\n    build: .\n');
    err = undefined;
    try {
      await pairsFromCompose({ compose: noImage, fromEnv: before, toEnv: after });
    } catch (e) {
      err = e;
    }
    expect(isLayerwiseError(err, 'COMPOSE_INVALID')).toBe(true);
    expect((err as Error).message).toContain('service api has no image');
  });
});
