import { FileWindow } from '../stream/random-access.js';
import { readPatchPreamble, type PatchHeader } from './format.js';
import { openSection, STREAMS } from './section.js';

export interface PatchDescription {
  path: string;
  bytes: number;
  header: PatchHeader;
  /** What the site must have. */
  needs: { layers: { diffId: string; size: number }[]; metadataBase: { imageId: string; reference: string } };
  layers: { index: number; diffId: string; size: number; source: 'reused' | 'rebuilt'; sectionBytes: number; blob: string }[];
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
    const base = h.requires.baseImages[h.config.base]!;
    return {
      path,
      bytes: p.totalBytes,
      header: h,
      needs: { layers: h.requires.layers.filter((l) => !l.unused), metadataBase: { imageId: base.imageId, reference: base.reference } },
      layers: h.layers.map((l, i) => ({
        index: i,
        diffId: l.diffId,
        size: l.size,
        source: l.source.kind === 'base' ? 'reused' : 'rebuilt',
        sectionBytes: l.source.kind === 'rebuilt' ? h.sections[l.source.section]!.length : 0,
        blob: l.blob.kind,
      })),
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
