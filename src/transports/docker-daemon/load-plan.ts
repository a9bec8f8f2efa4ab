import type { Digest } from '../../model/digest.js';
import type { Image } from '../../model/image.js';
import type { EngineClient } from './engine.js';

/**
 * How to load an image into an engine. The classic graphdriver image store looks a layer up by its
 * chainID before opening the layer file named in manifest.json, so an archive may leave out the layers
 * the engine already has; the containerd image store imports content by digest and wants everything.
 */
export interface LoadPlan {
  path: 'missing-layers' | 'full';
  /** diffIDs of the leading layers the engine already has (left out of the archive). */
  omit: Set<Digest>;
  reason: string;
}

export async function isContainerdStore(engine: EngineClient): Promise<boolean> {
  const info = await engine.info();
  const driver = String(info.Driver ?? '');
  const status = (info.DriverStatus as [string, string][] | null | undefined) ?? [];
  return driver.startsWith('io.containerd') || status.some(([k, v]) => k === 'driver-type' && String(v).includes('containerd'));
}

/** Finds the longest prefix of the image's layers the engine has, looking at the engine's images. */
export async function planLoad(engine: EngineClient, image: Image, hints: string[] = []): Promise<LoadPlan> {
  if (await isContainerdStore(engine)) return { path: 'full', omit: new Set(), reason: 'the engine uses the containerd image store, which takes complete archives' };
  const want = image.layers.map((l) => l.diffId);
  let best = 0;
  let from = '';
  const consider = (layers: string[] | undefined, name: string) => {
    if (!layers) return;
    let n = 0;
    while (n < want.length && n < layers.length && layers[n] === want[n]) n++;
    if (n > best) {
      best = n;
      from = name;
    }
  };
  for (const h of hints) consider((await engine.inspectImage(h))?.RootFS?.Layers, h);
  if (best < want.length) {
    const { status, body } = await engine.json<{ Id: string; RepoTags?: string[] }[]>('GET', '/images/json');
    if (status === 200 && Array.isArray(body)) {
      for (const img of body.slice(0, 500)) {
        if (best === want.length) break;
        consider((await engine.inspectImage(img.Id))?.RootFS?.Layers, img.RepoTags?.[0] ?? img.Id);
      }
    }
  }
  if (best === 0) return { path: 'full', omit: new Set(), reason: 'the engine has none of its layers' };
  // The last layer must be in the archive for the engine to learn the image at all; keep at least one.
  if (best === want.length) best = want.length - 1;
  if (best === 0) return { path: 'full', omit: new Set(), reason: 'single-layer image' };
  return { path: 'missing-layers', omit: new Set(want.slice(0, best) as Digest[]), reason: `the engine has the first ${best} of ${want.length} layers (from ${from})` };
}
