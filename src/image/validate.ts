import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { isLayerwiseError, type ErrorCode } from '../errors.js';
import { historyForLayers } from '../model/config.js';
import { sha256 } from '../model/digest.js';
import type { Image } from '../model/image.js';
import { layerCompression, manifestFamily, MediaType } from '../model/media-types.js';
import { decompressStream, sniffCompression } from '../stream/compression.js';
import { peek } from '../stream/peek.js';
import { DigestingStream } from '../stream/verify.js';
import { chain } from './blob-layer.js';
import { tap } from '../stream/tap.js';
import { TarParser } from '../tar/reader.js';
import { LayerSafety } from '../tar/layer-safety.js';
import type { Progress } from '../progress.js';

export interface ValidationProblem {
  code: ErrorCode | 'HISTORY_MISMATCH' | 'MEDIA_TYPE_MIXED' | 'COMPRESSION_MISMATCH';
  where: string;
  message: string;
}

export interface ValidationReport {
  reference: string;
  imageId: string;
  manifestDigest: string;
  layers: { index: number; digest: string; diffId: string; size: number; uncompressedSize?: number; entries?: number; ok: boolean }[];
  problems: ValidationProblem[];
  ok: boolean;
}

/**
 * Cross-checks everything an image claims, like go-containerregistry's validate.Image: manifest against
 * config, every layer's blob digest and size, its diffID, that it is a well-formed tar, media types and
 * history. Every problem is reported, not just the first.
 */
export async function validateImage(image: Image, opts: { layers?: boolean; progress?: Progress } = {}): Promise<ValidationReport> {
  const problems: ValidationProblem[] = [];
  const add = (code: ValidationProblem['code'], where: string, message: string) => problems.push({ code, where, message });
  const m = image.manifest;

  if (m.config.digest !== sha256(image.configBytes)) add('DIGEST_MISMATCH', 'config', `config bytes hash to ${sha256(image.configBytes)}, manifest says ${m.config.digest}`);
  if (m.config.size !== image.configBytes.length) add('SIZE_MISMATCH', 'config', `config is ${image.configBytes.length} bytes, manifest says ${m.config.size}`);
  if (image.digest !== sha256(image.manifestBytes)) add('DIGEST_MISMATCH', 'manifest', 'manifest digest does not match its bytes');
  const diffIds = image.config.rootfs.diff_ids;
  if (diffIds.length !== m.layers.length) add('MANIFEST_INVALID', 'config', `config has ${diffIds.length} diffIDs, manifest has ${m.layers.length} layers`);
  const family = manifestFamily(image.mediaType);
  const configType = m.config.mediaType;
  if (family === 'oci' && configType === MediaType.DockerConfig) add('MEDIA_TYPE_MIXED', 'config', `OCI manifest with a Docker config media type`);
  if (family === 'docker' && configType !== MediaType.DockerConfig) add('MEDIA_TYPE_MIXED', 'config', `Docker manifest with config media type ${configType}`);
  const nonEmpty = (image.config.history ?? []).filter((h) => !h.empty_layer).length;
  if (image.config.history && nonEmpty !== diffIds.length) {
    add('HISTORY_MISMATCH', 'config', `history has ${nonEmpty} layer-making steps for ${diffIds.length} layers`);
  }
  void historyForLayers;

  const layers: ValidationReport['layers'] = [];
  for (let i = 0; i < image.layers.length; i++) {
    const layer = image.layers[i]!;
    const d = layer.descriptor;
    const where = `layer ${i} (${d.digest})`;
    const row: ValidationReport['layers'][number] = { index: i, digest: d.digest, diffId: layer.diffId, size: d.size, ok: true };
    layers.push(row);
    const before = problems.length;
    const compression = layerCompression(d.mediaType);
    if (compression === undefined) add('MEDIA_TYPE_UNSUPPORTED', where, `unknown layer media type ${d.mediaType}`);
    else {
      const isOciType = d.mediaType.startsWith('application/vnd.oci.');
      if ((family === 'oci') !== isOciType) add('MEDIA_TYPE_MIXED', where, `${family === 'oci' ? 'OCI' : 'Docker'} manifest with layer type ${d.mediaType}`);
    }
    if (opts.layers !== false && compression !== undefined) {
      opts.progress?.start(where, d.size);
      // Content that could escape or be read two ways is reported, and the layer still measured.
      const safety = new LayerSafety(where);
      let unsafe: ValidationProblem | undefined;
      try {
        const raw = await layer.compressed({ verify: false });
        const [head, rest] = await peek(raw, 4);
        const actual = sniffCompression(head);
        if (actual !== compression) add('COMPRESSION_MISMATCH', where, `media type ${d.mediaType} says ${compression} but the blob is ${actual === 'none' ? 'uncompressed' : actual}`);
        // Measure instead of verify, so one bad layer is described fully and the rest still run.
        const outer = new DigestingStream();
        const inner = new DigestingStream();
        const parser = new TarParser({ subject: where });
        let entries = 0;
        const sink = new Writable({
          write(chunk: Buffer, _e, cb) {
            try {
              for (const ev of parser.write(chunk)) {
                if (ev.kind !== 'entry') continue;
                entries++;
                if (!unsafe) {
                  try {
                    safety.check(ev.entry);
                  } catch (err) {
                    if (!isLayerwiseError(err)) throw err;
                    unsafe = { code: err.code, where, message: err.message };
                  }
                }
              }
              cb();
            } catch (err) {
              cb(err as Error);
            }
          },
          final(cb) {
            try {
              parser.end();
              cb();
            } catch (err) {
              cb(err as Error);
            }
          },
        });
        const measured = tap(chain(rest, outer), opts.progress && ((n) => opts.progress!.advance(n)));
        await pipeline(decompressStream(measured, actual, where), inner, sink);
        row.uncompressedSize = inner.bytes;
        row.entries = entries;
        if (outer.digest !== d.digest) add('DIGEST_MISMATCH', where, `blob hashes to ${outer.digest}`);
        if (outer.bytes !== d.size) add('SIZE_MISMATCH', where, `blob is ${outer.bytes} bytes, manifest says ${d.size}`);
        if (inner.digest !== layer.diffId) add('DIFFID_MISMATCH', where, `uncompressed content hashes to ${inner.digest}, config says ${layer.diffId}`);
      } catch (err) {
        if (isLayerwiseError(err)) add(err.code, where, err.message);
        else add('IO', where, (err as Error).message);
      } finally {
        opts.progress?.done();
      }
      if (unsafe) problems.push(unsafe);
    }
    row.ok = problems.length === before;
  }
  return { reference: image.reference, imageId: image.id, manifestDigest: image.digest, layers, problems, ok: problems.length === 0 };
}

