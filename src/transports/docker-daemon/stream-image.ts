import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { LayerwiseError } from '../../errors.js';
import { chain } from '../../image/blob-layer.js';
import type { Descriptor, Platform } from '../../model/descriptor.js';
import type { Digest } from '../../model/digest.js';
import type { Image, Layer } from '../../model/image.js';
import { MediaType, layerCompression, type Compression } from '../../model/media-types.js';
import type { FileTree } from '../../stream/file-tree.js';
import { checkTreeName } from '../../stream/file-tree.js';
import { decompressStream, sniffCompression } from '../../stream/compression.js';
import type { RandomAccess } from '../../stream/random-access.js';
import { VerifyingStream } from '../../stream/verify.js';
import { TarParser, type TarEvent } from '../../tar/reader.js';
import { ArchiveMemberNames, memberName } from '../../tar/index-file.js';
import { readDockerArchiveTree } from '../docker-archive/read.js';
import { EngineClient } from './engine.js';
import { writeOrStop } from '../../stream/write-wait.js';

/** Members of a `docker save` stream small enough to be metadata (manifest.json, configs, OCI index and manifests). */
const SMALL_MEMBER = 4 * 1024 * 1024;

interface MemberInfo {
  size: number;
  head: Buffer;
  data?: Buffer;
}

/** The small members of one save stream, as a FileTree the docker-archive reader understands. */
class SavedMetadataTree implements FileTree {
  constructor(readonly subject: string, private readonly members: Map<string, MemberInfo>) {}
  async size(name: string): Promise<number | undefined> {
    return this.members.get(memberName(name))?.size;
  }
  async readFile(name: string): Promise<Buffer> {
    const m = this.members.get(memberName(checkTreeName(name, this.subject)));
    if (!m?.data) throw new LayerwiseError('BLOB_MISSING', `${this.subject}: ${name} is missing or too large to be metadata`, { subject: this.subject });
    return m.data;
  }
  async open(name: string): Promise<RandomAccess> {
    // Only the first bytes are known without another pass; enough for compression sniffing.
    const m = this.members.get(memberName(name));
    if (!m) throw new LayerwiseError('BLOB_MISSING', `${this.subject}: ${name} is missing`, { subject: this.subject });
    return {
      size: m.size,
      read: async (offset, length) => {
        if (offset + length > m.head.length) throw new LayerwiseError('INTERNAL', `${this.subject}: ${name} is only streamed`);
        return m.head.subarray(offset, offset + length);
      },
      stream: () => {
        throw new LayerwiseError('INTERNAL', `${this.subject}: ${name} is only streamed`);
      },
      close: async () => {},
    };
  }
  async names(): Promise<string[]> {
    return [...this.members.keys()];
  }
  async close(): Promise<void> {}
}

/**
 * Reads `docker save` output of an engine as a stream, calling `onMember` for large members (layers) so
 * they can be consumed as they pass, and keeping small ones (metadata) in memory.
 */
async function passSave(
  engine: EngineClient,
  name: string,
  subject: string,
  onMember: (member: string, size: number, body: Readable) => Promise<void> | void,
  opts: { wants?: (member: string) => boolean; keepSmall?: boolean } = {},
): Promise<Map<string, MemberInfo>> {
  const members = new Map<string, MemberInfo>();
  const parser = new TarParser({ subject });
  const names = new ArchiveMemberNames(subject);
  const events: TarEvent[] = [];
  let current: { name: string; info: MemberInfo; parts: Buffer[] | undefined; body: PassThrough | undefined; done: Promise<void> | undefined } | undefined;
  const stream = await engine.save([name]);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    events.length = 0;
    parser.write(chunk, events);
    for (const ev of events) {
      if (ev.kind === 'entry') {
        const n = names.add(ev.entry.path, ev.entry.type);
        const info: MemberInfo = { size: ev.entry.size, head: Buffer.alloc(0) };
        const isFile = ev.entry.type === 'file';
        // A wanted member goes to its consumer whatever its size; otherwise small members are metadata.
        const wanted = isFile && (opts.wants ? opts.wants(n) : ev.entry.size > SMALL_MEMBER);
        const small = isFile && !wanted && opts.keepSmall !== false && ev.entry.size <= SMALL_MEMBER;
        let body: PassThrough | undefined;
        let done: Promise<void> | undefined;
        if (wanted) {
          body = new PassThrough({ highWaterMark: 4 << 20 });
          done = Promise.resolve(onMember(n, ev.entry.size, body));
          done.catch(() => body!.destroy());
        }
        current = { name: n, info, parts: small ? [] : undefined, body, done };
        members.set(n, info);
      } else if (ev.kind === 'data' && current) {
        if (current.info.head.length < 8) current.info.head = Buffer.concat([current.info.head, ev.chunk.subarray(0, 8 - current.info.head.length)]);
        if (current.parts) current.parts.push(Buffer.from(ev.chunk));
        else if (current.body) await writeOrStop(current.body, ev.chunk);
      } else if (ev.kind === 'entry-end' && current) {
        if (current.parts) current.info.data = Buffer.concat(current.parts);
        if (current.body) {
          current.body.end();
          await current.done;
        }
        current = undefined;
      }
    }
  }
  events.length = 0;
  parser.end(events);
  return members;
}

/** A layer of an engine image, read by streaming `docker save` and picking its member out. */
class StreamedLayer implements Layer {
  constructor(
    readonly descriptor: Descriptor,
    readonly diffId: Digest,
    readonly compression: Compression,
    private readonly owner: StreamingDaemonImage,
    readonly member: string,
  ) {}
  get uncompressedSize(): number | undefined {
    return this.compression === 'none' ? this.descriptor.size : undefined;
  }
  async compressed(options: { verify?: boolean } = {}): Promise<Readable> {
    const out = new PassThrough({ highWaterMark: 4 << 20 });
    this.owner.scan(new Set([this.member]), async (_m, body) => {
      for await (const c of body as AsyncIterable<Buffer>) if (!(await writeOrStop(out, c))) break;
      out.end();
      body.resume();
    }).catch((err) => out.destroy(err));
    if (options.verify === false) return out;
    return chain(out, new VerifyingStream({ digest: this.descriptor.digest, size: this.descriptor.size, subject: `${this.owner.reference}: ${this.member}` }));
  }
  async uncompressed(): Promise<Readable> {
    const blob = await this.compressed();
    if (this.compression === 'none' && this.descriptor.digest === this.diffId) return blob;
    return chain(decompressStream(blob, this.compression, this.member), new VerifyingStream({ digest: this.diffId, subject: `${this.owner.reference}: ${this.member} (uncompressed)`, mismatchCode: 'DIFFID_MISMATCH' }));
  }
}

/**
 * An engine image read without a local copy: one pass over `docker save` for the metadata, then layers
 * as further passes. `scanLayers` delivers every wanted layer in a single pass, in the order the engine
 * writes them, which is how patch creation and application read engines.
 */
export class StreamingDaemonImage implements Image {
  private streamedLayers: StreamedLayer[] = [];

  private constructor(
    private readonly engine: EngineClient,
    private readonly name: string,
    private readonly base: Image,
    readonly names: readonly string[],
  ) {}

  get layers(): readonly StreamedLayer[] {
    return this.streamedLayers;
  }

  static async open(name: string, reference: string, opts: { dockerHost?: string; platform?: Platform } = {}): Promise<StreamingDaemonImage> {
    const engine = new EngineClient(opts.dockerHost);
    const found = await engine.inspectImage(name);
    if (!found) throw new LayerwiseError('IMAGE_NOT_FOUND', `${reference}: the Docker engine at ${engine.endpoint.display} has no image ${name}`, { subject: reference });
    // The metadata pass: small members are kept, layer bytes pass by unread.
    const members = await passSave(engine, found.Id, reference, () => {}, { wants: () => false });
    const base = await readDockerArchiveTree(new SavedMetadataTree(reference, members), { kind: 'only' }, reference, { platform: opts.platform });
    if (base.id !== found.Id) throw new LayerwiseError('DIGEST_MISMATCH', `${reference}: engine saved image ${base.id}, but inspect says ${found.Id}`, { subject: reference });
    const manifestJson = JSON.parse((members.get('manifest.json')!.data!).toString('utf8')) as { Layers: string[] }[];
    const paths = manifestJson[0]!.Layers.map((p) => memberName(p));
    // Saved by ID (stable across passes even if a tag moves meanwhile), so names come from the reference.
    const byId = /^(sha256:)?[0-9a-f]{12,64}$/.test(name);
    const image = new StreamingDaemonImage(engine, found.Id, base, byId ? found.RepoTags ?? [] : [name]);
    image.streamedLayers = base.layers.map((l, i) => {
      const m = members.get(paths[i]!)!;
      const compression = m.head.length >= 2 ? sniffCompression(m.head) : layerCompression(l.descriptor.mediaType) ?? 'none';
      const descriptor = compression === 'none' ? { ...l.descriptor, mediaType: l.descriptor.mediaType === MediaType.OciLayer ? MediaType.OciLayer : MediaType.DockerLayer } : l.descriptor;
      return new StreamedLayer(descriptor, l.diffId, compression, image, paths[i]!);
    });
    return image;
  }

  get reference(): string {
    return this.base.reference;
  }
  get manifest() {
    return this.base.manifest;
  }
  get manifestBytes() {
    return this.base.manifestBytes;
  }
  get digest() {
    return this.base.digest;
  }
  get mediaType() {
    return this.base.mediaType;
  }
  get config() {
    return this.base.config;
  }
  get configBytes() {
    return this.base.configBytes;
  }
  get id() {
    return this.base.id;
  }
  async close(): Promise<void> {}

  /** One pass over `docker save`, handing each wanted member's bytes to `visit` as they stream by. */
  async scan(wanted: Set<string>, visit: (member: string, body: Readable) => Promise<void>): Promise<void> {
    await passSave(this.engine, this.name, this.reference, (member, _size, body) => visit(member, body), { wants: (m) => wanted.has(m), keepSmall: false });
  }

  /** Every wanted layer's verified tar, in one pass over the engine's stream. */
  async scanLayers(visit: (layer: Layer, tar: Readable) => Promise<void>, wanted?: ReadonlySet<Digest>): Promise<void> {
    const byMember = new Map<string, StreamedLayer>();
    for (const l of this.layers) if (!wanted || wanted.has(l.diffId)) byMember.set(l.member, l);
    await this.scan(new Set(byMember.keys()), async (member, body) => {
      const l = byMember.get(member)!;
      const verified = chain(body, new VerifyingStream({ digest: l.descriptor.digest, size: l.descriptor.size, subject: `${this.reference}: ${member}` }));
      const tar = l.compression === 'none' && l.descriptor.digest === l.diffId ? verified : chain(decompressStream(verified, l.compression, member), new VerifyingStream({ digest: l.diffId, subject: `${this.reference}: ${member} (uncompressed)`, mismatchCode: 'DIFFID_MISMATCH' }));
      await visit(l, tar);
    });
  }
}
