import { LayerwiseError } from '../errors.js';
import type { Digest } from '../model/digest.js';
import type { Image } from '../model/image.js';
import { encodePatchFile, type CreatePatchResult, type EncodeTarget } from '../patch/create.js';
import { openImage, type OpenOptions } from '../transports/index.js';
import type { Progress } from '../progress.js';
import { changedVariables, loadCompose, resolveServices } from './compose.js';
import { readEnvFile } from './env-file.js';

/** One image update of a deployment: what the site runs now, and what it should run. */
export interface BundlePair {
  service?: string;
  from: string;
  to: string;
}

export interface CreateBundleOptions {
  pairs: BundlePair[];
  output: string;
  /** Variables to set at the site (from a compose --to-env), recorded for `bundle apply --env-file`. */
  env?: Record<string, string>;
  open?: OpenOptions;
  progress?: Progress;
  tool?: string;
}

/** `--pair OLD=NEW`: transport references on both sides. */
export function parsePair(text: string): BundlePair {
  // Transport references contain ':', so split at the '=' that starts the second reference.
  const m = /^(.+?)=((?:docker-archive|oci|oci-archive|docker-daemon|docker):.+)$/.exec(text);
  if (!m) throw new LayerwiseError('USAGE', `--pair ${text}: write OLD=NEW with transports on both sides, e.g. docker-daemon:app:1.0=docker-daemon:app:1.1`);
  return { from: m[1]!, to: m[2]! };
}

export interface ComposeBundleInput {
  compose: string;
  fromEnv: string;
  toEnv: string;
  /** How the images are reached: 'docker-daemon' (default) or 'docker' (a registry). */
  transport?: 'docker-daemon' | 'docker';
}

/** Resolves every compose service's image for the old and the new variables into pairs. */
export async function pairsFromCompose(input: ComposeBundleInput): Promise<{ pairs: BundlePair[]; env: Record<string, string> }> {
  const services = await loadCompose(input.compose);
  const before = { ...(await readEnvFile(input.fromEnv)) };
  const after = { ...(await readEnvFile(input.toEnv)) };
  const oldImages = resolveServices(services, before, `${input.compose} with ${input.fromEnv}`);
  const newImages = resolveServices(services, after, `${input.compose} with ${input.toEnv}`);
  const ref = (image: string) => (input.transport === 'docker' ? `docker://${image}` : `docker-daemon:${image}`);
  const pairs = services.map((s, i) => ({ service: s.name, from: ref(oldImages[i]!.image), to: ref(newImages[i]!.image) }));
  return { pairs, env: changedVariables(before, after, services) };
}

function groupTargets(pairs: BundlePair[]): { olds: string[]; targets: EncodeTarget[] } {
  const olds = [...new Set(pairs.map((p) => p.from))];
  const byTo = new Map<string, EncodeTarget & { services: string[] }>();
  for (const p of pairs) {
    const t = byTo.get(p.to) ?? { image: p.to, services: [], from: p.from };
    if (p.service) t.services.push(p.service);
    byTo.set(p.to, t);
  }
  return { olds, targets: [...byTo.values()] };
}

/**
 * One file for a whole release: every new image of the deployment, each coded against everything the
 * site has (all the old images), with content shared between images (two services on one image, images
 * on a common base) stored once.
 */
export async function createBundle(opts: CreateBundleOptions): Promise<CreatePatchResult> {
  if (opts.pairs.length === 0) throw new LayerwiseError('USAGE', 'a bundle needs at least one image pair');
  const { olds, targets } = groupTargets(opts.pairs);
  return encodePatchFile({ from: olds, targets, output: opts.output, kind: 'bundle', open: opts.open, progress: opts.progress, tool: opts.tool, ...(opts.env && Object.keys(opts.env).length ? { env: opts.env } : {}) });
}

export interface BundleEstimate {
  images: {
    services: string[];
    from: string;
    to: string;
    imageId: Digest;
    layers: number;
    reusedLayers: number;
    /** Layers the site lacks and that no earlier image in the bundle brings. */
    newLayers: number;
    /** Compressed size of those layers: what a registry pull would move; the bundle is smaller. */
    newLayerBytes: number;
    unchanged: boolean;
  }[];
  totalNewLayerBytes: number;
}

/** `bundle create --dry-run`: from manifests and configs only, what each image needs at the site. */
export async function estimateBundle(pairs: BundlePair[], open?: OpenOptions): Promise<BundleEstimate> {
  const { olds, targets } = groupTargets(pairs);
  const opened: Image[] = [];
  try {
    const have = new Set<Digest>();
    for (const o of olds) {
      const img = await openImage(o, open);
      opened.push(img);
      for (const l of img.layers) have.add(l.diffId);
    }
    const brought = new Set<Digest>();
    const images: BundleEstimate['images'] = [];
    for (const t of targets) {
      const img = await openImage(t.image as string, open);
      opened.push(img);
      let reused = 0;
      let fresh = 0;
      let bytes = 0;
      for (const l of img.layers) {
        if (have.has(l.diffId)) reused++;
        else if (!brought.has(l.diffId)) {
          brought.add(l.diffId);
          fresh++;
          bytes += l.descriptor.size;
        }
      }
      const fromIds = opened.find((o) => o.reference === t.from)?.id;
      images.push({ services: t.services ?? [], from: t.from ?? '', to: t.image as string, imageId: img.id, layers: img.layers.length, reusedLayers: reused, newLayers: fresh, newLayerBytes: bytes, unchanged: fromIds === img.id });
    }
    return { images, totalNewLayerBytes: images.reduce((a, i) => a + i.newLayerBytes, 0) };
  } finally {
    for (const img of opened) await img.close();
  }
}
