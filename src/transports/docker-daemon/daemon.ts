import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LayerwiseError } from '../../errors.js';
import type { Platform } from '../../model/descriptor.js';
import type { Image } from '../../model/image.js';
import type { Progress } from '../../progress.js';
import { readDockerArchive } from '../docker-archive/read.js';
import { streamDockerArchive, type ArchiveImage } from '../docker-archive/write.js';
import { familiarName, normalizeImageName } from '../reference.js';
import { EngineClient } from './engine.js';
import { planLoad, type LoadPlan } from './load-plan.js';
import { PassThrough } from 'node:stream';
import type { Digest } from '../../model/digest.js';

export function scratchDir(): string {
  return process.env.LAYERWISE_TMPDIR || os.tmpdir();
}

/**
 * Opens an image held by a Docker engine. The engine only hands images out as one `docker save` stream,
 * so random access needs a local copy: it goes to a temporary file that close() removes. (Patch creation
 * and analysis read engines in one sequential pass instead; see image/scan.ts.)
 */
export async function readDaemonImage(name: string, reference: string, opts: { dockerHost?: string; platform?: Platform } = {}): Promise<Image> {
  const engine = new EngineClient(opts.dockerHost);
  const found = await engine.inspectImage(name);
  if (!found) throw new LayerwiseError('IMAGE_NOT_FOUND', `${reference}: the Docker engine at ${engine.endpoint.display} has no image ${name}`, { subject: reference });
  const dir = await mkdtemp(path.join(scratchDir(), 'layerwise-engine-'));
  const file = path.join(dir, 'image.tar');
  try {
    const stream = await engine.save([name]);
    await pipeline(stream, createWriteStream(file, { highWaterMark: 1 << 20 }));
    const image = await readDockerArchive(file, { kind: 'only' }, reference, { platform: opts.platform });
    if (image.id !== found.Id) {
      await image.close();
      throw new LayerwiseError('DIGEST_MISMATCH', `${reference}: engine saved image ${image.id}, but inspect says ${found.Id}`, { subject: reference });
    }
    const close = image.close;
    return Object.assign(image, {
      close: async () => {
        await close();
        await rm(dir, { recursive: true, force: true });
      },
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface LoadResult {
  imageId: Digest;
  messages: string[];
  /** 'full' archive, or 'missing-layers' when the engine's store accepted an archive without the layers it has. */
  path: 'full' | 'missing-layers';
  bytesSent: number;
  reason: string;
}

/**
 * Loads images into an engine by streaming a docker-archive into POST /images/load, then checks the
 * engine reports each image under its exact image ID. With `missingLayersOnly`, layers the engine already
 * has are left out when its image store allows it (see load-plan.ts); if the engine still refuses the
 * partial archive, the full one is sent.
 */
export async function loadIntoDaemon(images: ArchiveImage[], opts: { dockerHost?: string; progress?: Progress; missingLayersOnly?: boolean; hints?: string[] } = {}): Promise<LoadResult[]> {
  const engine = new EngineClient(opts.dockerHost);
  const out: LoadResult[] = [];
  const send = async (batch: ArchiveImage[], omit: Set<Digest>) => {
    let bytesSent = 0;
    const messages = await engine.load(async (req) => {
      const counter = new PassThrough();
      counter.on('data', (c: Buffer) => {
        bytesSent += c.length;
      });
      counter.pipe(req);
      await streamDockerArchive(batch, counter, { progress: opts.progress, omitLayers: omit });
    });
    return { messages, bytesSent };
  };
  const groups: { batch: ArchiveImage[]; plan: LoadPlan }[] = [];
  if (opts.missingLayersOnly) {
    for (const i of images) groups.push({ batch: [i], plan: await planLoad(engine, i.image, opts.hints) });
  } else {
    groups.push({ batch: images, plan: { path: 'full', omit: new Set(), reason: 'full archive requested' } });
  }
  for (const { batch, plan } of groups) {
    let sent: { messages: string[]; bytesSent: number };
    let path = plan.path;
    try {
      sent = await send(batch, plan.omit);
    } catch (err) {
      if (plan.path !== 'missing-layers' || !(err instanceof LayerwiseError) || err.code !== 'ENGINE_ERROR') throw err;
      opts.progress?.note(`engine refused an archive without its existing layers (${err.message}); sending the full image`);
      sent = await send(batch, new Set());
      path = 'full';
    }
    opts.progress?.note(`loaded ${batch.map((b) => b.tags[0] ?? b.image.id.slice(0, 19)).join(', ')}: ${path === 'missing-layers' ? `only missing layers sent (${plan.reason})` : `full archive (${plan.reason})`}`);
    for (const { image, tags } of batch) {
      const found = await engine.inspectImage(image.id);
      if (!found || found.Id !== image.id) {
        throw new LayerwiseError('ENGINE_ERROR', `Docker engine did not end up with image ${image.id} after the load (${sent.messages.join('; ')})`);
      }
      for (const t of tags) {
        const full = normalizeImageName(t);
        const has = (found.RepoTags ?? []).some((r) => normalizeImageName(r) === full);
        if (!has) {
          const f = familiarName(t);
          const i = f.lastIndexOf(':');
          await engine.tag(image.id, f.slice(0, i), f.slice(i + 1));
        }
      }
      out.push({ imageId: image.id, messages: sent.messages, path, bytesSent: sent.bytesSent, reason: path === plan.path ? plan.reason : 'fallback after refusal' });
    }
  }
  return out;
}
