import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { sha256, type Digest } from '../../src/model/digest.js';
import type { Image, Layer } from '../../src/model/image.js';
import { emptyStats, encodePatchPreamble, PATCH_VERSION, type PatchHeader, type PatchLayer, type SectionInfo, type TargetLayer } from '../../src/patch/format.js';
import { encodeHeader } from '../../src/patch/header-codec.js';
import { C_LITERAL, C_NONE, END_OF_LAYER, FLAG_EXPLICIT_REF, FLAG_RAW_PADDING } from '../../src/patch/layer-encoder.js';
import { digestDictionary, encodeMetadata } from '../../src/patch/metadata.js';
import { SectionWriter } from '../../src/patch/section.js';
import { readTar } from '../../src/tar/reader.js';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A layer section that rebuilds `tar` entirely from literal bytes: raw headers, literal data, no base references. */
async function literalSection(tar: Buffer, tmpDir: string): Promise<Buffer> {
  const section = new SectionWriter(tmpDir);
  const s = section.streams;
  let header: Buffer | undefined;
  let data: Buffer[] = [];
  // The plain parser, without the layer checks: the point is to smuggle what the checks refuse.
  for await (const ev of readTar(Readable.from([tar]), { subject: 'crafted' })) {
    if (ev.kind === 'entry') {
      header = ev.entry.headerBytes;
      data = [];
    } else if (ev.kind === 'data') data.push(Buffer.from(ev.chunk));
    else if (ev.kind === 'entry-end') {
      const mode = encodeHeader(header!, undefined, { fields: s.fields.w, raw: s.hraw.w });
      const content = Buffer.concat(data);
      const rawPadding = !ev.padding.every((b) => b === 0);
      s.entries.byte(mode | ((content.length > 0 ? C_LITERAL : C_NONE) << 2) | FLAG_EXPLICIT_REF | (rawPadding ? FLAG_RAW_PADDING : 0));
      s.entries.uint(0);
      if (content.length > 0) s.data.bytes(content);
      if (rawPadding) s.data.bytes(ev.padding);
    } else if (ev.kind === 'end') {
      s.preload.uint(0); // no archives sent ahead
      s.entries.byte(END_OF_LAYER);
      s.entries.uint(ev.trailer.length / 512);
    }
  }
  const out: Buffer[] = [];
  await section.finish(async (c) => {
    out.push(Buffer.from(c));
  });
  return Buffer.concat(out);
}

/**
 * Writes a patch (or a one-image bundle) that turns `base` into `target`, made by hand rather than by
 * `patch create`: every target layer the base lacks is stored as literal bytes. This is how a hostile
 * patch maker would smuggle a layer that `patch create` itself refuses, to prove that apply checks the
 * layers it rebuilds. The header and sections carry correct digests, as an attacker's would.
 */
export async function craftPatch(opts: { base: Image; target: Image; output: string; tmpDir: string; kind?: 'patch' | 'bundle' }): Promise<void> {
  const { base, target } = opts;
  const baseLayers: Layer[] = [];
  for (const l of base.layers) if (!baseLayers.some((b) => b.diffId === l.diffId)) baseLayers.push(l);
  const sizes = new Map<Digest, number>();
  for (const l of [...baseLayers, ...target.layers]) if (!sizes.has(l.diffId)) sizes.set(l.diffId, (await bytesOf(await l.uncompressed())).length);
  const sections: SectionInfo[] = [];
  const bodies: Buffer[] = [];
  const layers: PatchLayer[] = [];
  const tls: TargetLayer[] = [];
  for (const l of target.layers) {
    let li = layers.findIndex((p) => p.diffId === l.diffId);
    if (li < 0) {
      if (baseLayers.some((b) => b.diffId === l.diffId)) {
        layers.push({ diffId: l.diffId, size: sizes.get(l.diffId)!, source: { kind: 'base' } });
      } else {
        const bytes = await literalSection(await bytesOf(await l.uncompressed()), opts.tmpDir);
        sections.push({ kind: 'layer', length: bytes.length, digest: sha256(bytes) });
        bodies.push(bytes);
        layers.push({ diffId: l.diffId, size: sizes.get(l.diffId)!, source: { kind: 'rebuilt', section: sections.length - 1 } });
      }
      li = layers.length - 1;
    }
    const blob = l.descriptor.digest === l.diffId ? { kind: 'same' as const } : baseLayers.some((b) => b.descriptor.digest === l.descriptor.digest) ? { kind: 'base-blob' as const } : { kind: 'recompress' as const, compression: 'gzip' as const };
    tls.push({ layer: li, descriptor: l.descriptor, blob });
  }
  const dict = digestDictionary(layers, { layers: tls, imageId: target.id, configSize: target.configBytes.length });
  for (const [kind, from, to] of [['config', base.configBytes, target.configBytes], ['manifest', base.manifestBytes, target.manifestBytes]] as const) {
    const bytes = encodeMetadata(from, dict, to);
    sections.push({ kind, length: bytes.length, digest: sha256(bytes) });
    bodies.push(bytes);
  }
  const header: PatchHeader = {
    format: 'layerwise-patch',
    version: PATCH_VERSION,
    kind: opts.kind ?? 'patch',
    tool: 'hand-crafted',
    created: '2024-01-01T00:00:00Z',
    requires: { layers: baseLayers.map((l) => ({ diffId: l.diffId, size: sizes.get(l.diffId)! })), baseImages: [{ imageId: base.id, manifestDigest: base.digest, reference: base.reference }] },
    layers,
    targets: [
      {
        reference: target.reference,
        names: [...target.names],
        ...(opts.kind === 'bundle' ? { services: ['app'] } : {}),
        mediaType: target.mediaType,
        manifestDigest: target.digest,
        manifestSize: target.manifestBytes.length,
        imageId: target.id,
        configSize: target.configBytes.length,
        layers: tls,
        config: { section: sections.length - 2, base: 0 },
        manifest: { section: sections.length - 1, base: 0 },
      },
    ],
    sections,
    stats: emptyStats(),
  };
  writeFileSync(opts.output, Buffer.concat([encodePatchPreamble(header), ...bodies]));
}
