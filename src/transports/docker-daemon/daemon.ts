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
}

/**
 * Loads images into an engine by streaming a docker-archive into POST /images/load, then checks the
 * engine reports each image under its exact image ID.
 */
export async function loadIntoDaemon(images: ArchiveImage[], opts: { dockerHost?: string; progress?: Progress } = {}): Promise<LoadResult[]> {
  const engine = new EngineClient(opts.dockerHost);
  let bytesSent = 0;
  const messages = await engine.load(async (req) => {
    req.on('pipe', () => {});
    const counter = new (await import('node:stream')).PassThrough();
    counter.on('data', (c: Buffer) => {
      bytesSent += c.length;
    });
    counter.pipe(req);
    await streamDockerArchive(images, counter, { progress: opts.progress });
  });
  const out: LoadResult[] = [];
  for (const { image, tags } of images) {
    const found = await engine.inspectImage(image.id);
    if (!found || found.Id !== image.id) {
      throw new LayerwiseError('ENGINE_ERROR', `Docker engine did not end up with image ${image.id} after the load (${messages.join('; ')})`);
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
    out.push({ imageId: image.id, messages, path: 'full', bytesSent });
  }
  return out;
}
