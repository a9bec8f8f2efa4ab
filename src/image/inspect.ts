import { describeStep, historyForLayers } from '../model/config.js';
import type { Image } from '../model/image.js';
import { chainIds } from '../model/digest.js';

export interface InspectReport {
  reference: string;
  names: string[];
  manifestDigest: string;
  mediaType: string;
  imageId: string;
  platform: string;
  created: string | undefined;
  config: {
    user?: string;
    env?: string[];
    entrypoint?: string[] | null;
    cmd?: string[] | null;
    workingDir?: string;
    exposedPorts?: string[];
    labels?: Record<string, string> | null;
  };
  layers: {
    index: number;
    digest: string;
    diffId: string;
    chainId: string;
    mediaType: string;
    size: number;
    step: string;
    created?: string;
  }[];
  totalSize: number;
  manifest: unknown;
}

/** What `layerwise inspect` shows: pure data from an opened image, no I/O. */
export function inspectImage(image: Image): InspectReport {
  const history = historyForLayers(image.config);
  const chains = chainIds(image.config.rootfs.diff_ids);
  const c = image.config.config ?? {};
  const layers = image.layers.map((l, i) => ({
    index: i,
    digest: l.descriptor.digest,
    diffId: l.diffId,
    chainId: chains[i]!,
    mediaType: l.descriptor.mediaType,
    size: l.descriptor.size,
    step: describeStep(history[i]),
    ...(history[i]?.created ? { created: history[i]!.created } : {}),
  }));
  return {
    reference: image.reference,
    names: [...image.names],
    manifestDigest: image.digest,
    mediaType: image.mediaType,
    imageId: image.id,
    platform: `${image.config.os}/${image.config.architecture}${image.config.variant ? '/' + image.config.variant : ''}`,
    created: image.config.created,
    config: {
      ...(c.User ? { user: c.User } : {}),
      ...(c.Env ? { env: c.Env } : {}),
      ...(c.Entrypoint !== undefined ? { entrypoint: c.Entrypoint } : {}),
      ...(c.Cmd !== undefined ? { cmd: c.Cmd } : {}),
      ...(c.WorkingDir ? { workingDir: c.WorkingDir } : {}),
      ...(c.ExposedPorts ? { exposedPorts: Object.keys(c.ExposedPorts) } : {}),
      ...(c.Labels !== undefined ? { labels: c.Labels } : {}),
    },
    layers,
    totalSize: layers.reduce((a, l) => a + l.size, 0),
    manifest: image.manifest,
  };
}
