import { FileWindow } from '../stream/random-access.js';
import { readPatchPreamble, type PatchHeader } from './format.js';
import { openSection, STREAMS } from './section.js';

export interface PatchDescription {
  path: string;
  bytes: number;
  header: PatchHeader;
  /** What the site must have: base layers, and the base images config and manifests are coded against. */
  needs: { layers: { diffId: string; size: number }[]; images: { imageId: string; reference: string }[] };
  /** Each image the patch rebuilds (one for a patch, one per image for a bundle). */
  targets: {
    names: string[];
    services: string[];
    from: string | undefined;
    imageId: string;
    manifestDigest: string;
    /** Bytes this image needs from the patch that no earlier target already brought. */
    ownBytes: number;
    layers: { index: number; diffId: string; size: number; source: 'reused' | 'rebuilt'; sectionBytes: number; blob: string; shared: boolean }[];
  }[];
  /** Stored bytes by kind over the whole patch. */
  bytesByKind: { header: number; tarMetadata: number; deltas: number; newData: number; configAndManifest: number };
  /** Stored bytes of each stream of the layer sections. */
  streams: Record<string, number>;
}

/** Reads a patch's header and section tables (no base needed) and says what it needs and holds. */
export async function describePatch(path: string): Promise<PatchDescription> {
  const ra = await FileWindow.open(path);
  try {
    const p = await readPatchPreamble(ra, path);
    const h = p.header;
    const streams: Record<string, number> = Object.fromEntries(STREAMS.map((s) => [s, 0]));
    for (let i = 0; i < h.sections.length; i++) {
      if (h.sections[i]!.kind !== 'layer') continue;
      const c = await openSection(ra, p.sectionOffsets[i]!, h.sections[i]!.length, path);
      for (const s of STREAMS) streams[s]! += c[s].storedLength;
    }
    const sectionsTotal = h.sections.reduce((a, s) => a + s.length, 0);
    const meta = h.sections.filter((s) => s.kind !== 'layer').reduce((a, s) => a + s.length, 0);
    const metaBases = [...new Set(h.targets.flatMap((t) => [t.config.base, t.manifest.base]))].map((b) => h.requires.baseImages[b]!);
    const counted = new Set<number>();
    const targets = h.targets.map((t) => {
      let ownBytes = h.sections[t.config.section]!.length + h.sections[t.manifest.section]!.length;
      const layers = t.layers.map((tl, i) => {
        const l = h.layers[tl.layer]!;
        const sectionBytes = l.source.kind === 'rebuilt' ? h.sections[l.source.section]!.length : 0;
        const shared = counted.has(tl.layer);
        if (!shared) {
          counted.add(tl.layer);
          ownBytes += sectionBytes;
        }
        return { index: i, diffId: l.diffId, size: l.size, source: (l.source.kind === 'base' ? 'reused' : 'rebuilt') as 'reused' | 'rebuilt', sectionBytes, blob: tl.blob.kind, shared };
      });
      return { names: t.names, services: t.services ?? [], from: t.from, imageId: t.imageId, manifestDigest: t.manifestDigest, ownBytes, layers };
    });
    return {
      path,
      bytes: p.totalBytes,
      header: h,
      needs: { layers: h.requires.layers.filter((l) => !l.unused), images: metaBases.map((b) => ({ imageId: b.imageId, reference: b.reference })) },
      targets,
      bytesByKind: {
        header: p.totalBytes - sectionsTotal,
        tarMetadata: streams.entries! + streams.fields! + streams.hraw!,
        deltas: streams.dops! + streams.diff!,
        newData: streams.data!,
        configAndManifest: meta,
      },
      streams,
    };
  } finally {
    await ra.close();
  }
}
