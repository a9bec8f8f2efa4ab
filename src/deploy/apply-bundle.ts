import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LayerwiseError } from '../errors.js';
import type { Progress } from '../progress.js';
import { PatchSession, verifySession, writeTarget, type ApplyResult } from '../patch/apply.js';
import { loadIntoDaemon, type LoadResult } from '../transports/docker-daemon/daemon.js';
import { familiarName } from '../transports/reference.js';
import type { OpenOptions } from '../transports/index.js';
import { updateEnvFile } from './env-file.js';

export interface ApplyBundleOptions {
  bundle: string;
  /** Images the site has; by default the old images the bundle names (for engine destinations). */
  from?: string[];
  /** 'docker-daemon' (the engine at DOCKER_HOST), 'oci:DIR' (one layout, every image tagged), 'docker-archive:DIR/' (one archive per image). */
  to: string;
  envFile?: string;
  open?: OpenOptions;
  progress?: Progress;
  dockerHost?: string;
  fullEngineLoad?: boolean;
}

export interface BundleApplyResult {
  images: { names: string[]; services: string[]; imageId: string; destination: string; load?: LoadResult; digestChanges?: ApplyResult['digestChanges'] }[];
  envUpdated?: Record<string, string>;
  verifiedBytes: number;
}

function slug(name: string): string {
  return familiarName(name).replace(/[/:@]/g, '_');
}

/**
 * Applies a release bundle: every image is rebuilt and verified before the first one is written or
 * loaded, so a bad bundle or an incomplete site leaves the engine as it was. Then each image goes to the
 * destination, and the .env tag variables are updated so `docker compose up -d` deploys the release.
 */
export async function applyBundle(opts: ApplyBundleOptions): Promise<BundleApplyResult> {
  const toEngine = opts.to === 'docker-daemon' || opts.to === 'docker-daemon:';
  let from = opts.from;
  if (!from || from.length === 0) {
    // Default base: the old images the bundle was made from, as the site's engine names them.
    const { describePatch } = await import('../patch/inspect.js');
    const d = await describePatch(opts.bundle);
    from = [...new Set(d.header.requires.baseImages.map((b) => b.reference))];
    if (from.some((f) => !f.startsWith('docker-daemon:') && !f.startsWith('docker://'))) {
      throw new LayerwiseError('USAGE', `${opts.bundle} was made from ${from.join(', ')}; say where the site's images are with --from`);
    }
  }
  const session = await PatchSession.open({ patch: opts.bundle, from, open: { ...opts.open, ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}) }, progress: opts.progress });
  try {
    const h = session.header;
    // Everything is rebuilt and checked once before anything is written.
    const verified = await verifySession(session, opts.progress);
    const images: BundleApplyResult['images'] = [];
    if (opts.to.startsWith('docker-archive:')) await mkdir(opts.to.slice('docker-archive:'.length), { recursive: true });
    for (let t = 0; t < h.targets.length; t++) {
      const target = h.targets[t]!;
      const names = target.names.length ? target.names : [`${target.services?.[0] ?? 'image'}:${target.imageId.slice(7, 19)}`];
      if (toEngine) {
        const loads = await loadIntoDaemon([{ image: session.image(t, { exactBlobs: false }), tags: names }], {
          dockerHost: opts.dockerHost,
          progress: opts.progress,
          missingLayersOnly: opts.fullEngineLoad !== true,
          hints: from.filter((f) => f.startsWith('docker-daemon:')).map((f) => f.slice('docker-daemon:'.length)),
        });
        images.push({ names, services: target.services ?? [], imageId: target.imageId, destination: 'docker-daemon', load: loads[0] });
      } else if (opts.to.startsWith('oci:')) {
        const dir = opts.to.slice(4).replace(/:$/, '');
        const res = await writeTarget(session, t, `oci:${dir}:${familiarName(names[0]!)}`);
        images.push({ names, services: target.services ?? [], imageId: target.imageId, destination: `oci:${dir}:${familiarName(names[0]!)}`, digestChanges: res.digestChanges });
      } else if (opts.to.startsWith('docker-archive:')) {
        const dir = opts.to.slice('docker-archive:'.length);
        const file = path.join(dir, `${slug(names[0]!)}.tar`);
        await writeTarget(session, t, `docker-archive:${file}:${names[0]}`, { names: names.slice(1) });
        images.push({ names, services: target.services ?? [], imageId: target.imageId, destination: file });
      } else {
        throw new LayerwiseError('USAGE', `bundle apply --to ${opts.to}: use docker-daemon, oci:DIR or docker-archive:DIR/`);
      }
    }
    let envUpdated: Record<string, string> | undefined;
    if (opts.envFile && h.env && Object.keys(h.env).length) {
      await updateEnvFile(opts.envFile, h.env);
      envUpdated = h.env;
    }
    return { images, ...(envUpdated ? { envUpdated } : {}), verifiedBytes: verified.bytes };
  } finally {
    await session.close();
  }
}
