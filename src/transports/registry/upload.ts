import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LayerwiseError } from '../../errors.js';
import type { Digest } from '../../model/digest.js';
import { tap } from '../../stream/tap.js';
import type { RegistryClient } from './client.js';
import type { RequestContext } from './errors.js';
import { drain, header } from './http.js';
import { withRetries, type RetryPolicy } from './retry.js';

/** Bytes to upload. With a digest the upload can be skipped, mounted or sent in one PUT. */
export interface BlobSource {
  digest?: Digest;
  size?: number;
  /** Opens the bytes; called again when an upload is restarted. */
  open(): Promise<Readable>;
}

export interface UploadOptions {
  /** Blobs of known digest up to this size go in one PUT; others in PATCH chunks. */
  chunkThreshold: number;
  chunkSize: number;
  retry: RetryPolicy;
  /** Another repository on the same registry that has the blob: try a cross-repository mount first. */
  mountFrom?: string;
  /** Progress: bytes newly sent (a restarted upload reports only bytes beyond what it reached before). */
  onBytes?: (n: number) => void;
}

export interface UploadOutcome {
  digest: Digest;
  size: number;
  how: 'present' | 'mounted' | 'uploaded';
  /** Upload sessions started (1 unless transient failures forced restarts). */
  sessions: number;
}

type Session = { mounted: true } | { mounted: false; location: URL; minChunk: number };

async function startSession(client: RegistryClient, repository: string, scopes: string[], ctx: RequestContext, mount?: { digest: Digest; from: string }): Promise<Session> {
  const q = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
  // No retries of its own: uploadBlob's loop restarts the whole session (nested loops would multiply).
  const res = await client.request({ method: 'POST', path: `/v2/${repository}/blobs/uploads/${q}`, scopes, headers: { 'Content-Length': '0' }, ctx, retry: false });
  const status = res.statusCode ?? 0;
  if (mount && status === 201) {
    await drain(res);
    return { mounted: true };
  }
  if (status !== 202) throw await client.failure(res, ctx);
  await drain(res);
  const location = header(res, 'location');
  if (!location) throw new LayerwiseError('REGISTRY_ERROR', `${client.registry}/${repository}: upload started without a Location`, { subject: client.registry });
  // A registry may ask for chunks of at least this size (OCI-Chunk-Min-Length); smaller ones it may refuse.
  const minChunk = Number(header(res, 'oci-chunk-min-length'));
  return { mounted: false, location: new URL(location, await client.baseUrl()), minChunk: Number.isSafeInteger(minChunk) && minChunk > 0 ? minChunk : 0 };
}

function withDigest(location: URL, digest: Digest): URL {
  const u = new URL(location.href);
  u.searchParams.set('digest', digest);
  return u;
}

/** Splits a stream into buffers of `size` bytes (the last one shorter); memory stays at one chunk. */
async function* chunksOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    let chunk = c;
    while (chunk.length > 0) {
      const take = Math.min(size - have, chunk.length);
      parts.push(chunk.subarray(0, take));
      have += take;
      chunk = chunk.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

async function monolithic(client: RegistryClient, location: URL, src: BlobSource & { digest: Digest; size: number }, scopes: string[], ctx: RequestContext, onBytes: (n: number) => void): Promise<void> {
  const res = await client.request({
    method: 'PUT',
    url: withDigest(location, src.digest),
    scopes,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(src.size) },
    body: async () => tap(await src.open(), onBytes),
    ctx,
    retry: false,
  });
  if (res.statusCode !== 201) throw await client.failure(res, ctx);
  await drain(res);
}

async function chunked(client: RegistryClient, location: URL, src: BlobSource, chunkSize: number, scopes: string[], ctx: RequestContext, onBytes: (n: number) => void): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let offset = 0;
  let url = location;
  const stream = await src.open();
  try {
    for await (const chunk of chunksOf(stream, chunkSize)) {
      hash.update(chunk);
      const res = await client.request({
        method: 'PATCH',
        url,
        scopes,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.length), 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
        body: chunk,
        ctx,
        retry: false,
      });
      if (res.statusCode !== 202) throw await client.failure(res, ctx);
      await drain(res);
      const next = header(res, 'location');
      if (next) url = new URL(next, url);
      offset += chunk.length;
      onBytes(chunk.length);
    }
  } finally {
    stream.destroy();
  }
  const digest = `sha256:${hash.digest('hex')}` as Digest;
  if (src.digest && digest !== src.digest) {
    throw new LayerwiseError('DIGEST_MISMATCH', `${ctx.object ?? 'blob'}: source bytes hash to ${digest}, expected ${src.digest}`);
  }
  if (src.size !== undefined && offset !== src.size) {
    throw new LayerwiseError('SIZE_MISMATCH', `${ctx.object ?? 'blob'}: source gave ${offset} bytes, expected ${src.size}`);
  }
  const res = await client.request({ method: 'PUT', url: withDigest(url, digest), scopes, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': '0' }, body: Buffer.alloc(0), ctx, retry: false });
  if (res.statusCode !== 201) throw await client.failure(res, ctx);
  await drain(res);
  return { digest, size: offset };
}

async function cancel(client: RegistryClient, location: URL, scopes: string[], ctx: RequestContext): Promise<void> {
  try {
    const res = await client.request({ method: 'DELETE', url: location, scopes, ctx, retry: false });
    await drain(res);
  } catch {
    // Best effort: registries expire abandoned upload sessions anyway.
  }
}

/**
 * Puts one blob into a repository, the way the distribution spec lays out: HEAD (skip if present),
 * cross-repository mount, else POST a session and PUT the bytes (small blobs) or PATCH them in chunks
 * and PUT the digest (large or unknown-digest blobs). A transient failure restarts the whole session
 * from a freshly opened source: a half-sent session cannot be trusted to hold what we think.
 */
export async function uploadBlob(client: RegistryClient, repository: string, src: BlobSource, opts: UploadOptions): Promise<UploadOutcome> {
  const scopes = client.pushScope(repository, opts.mountFrom);
  const ctx: RequestContext = { registry: client.registry, repository, object: `blob ${src.digest ?? '(new)'}`, action: 'push' };
  if (src.digest && (await client.hasBlob(repository, src.digest, src.size, scopes))) {
    return { digest: src.digest, size: src.size ?? 0, how: 'present', sessions: 0 };
  }
  let reported = 0;
  let sessions = 0;
  return withRetries(opts.retry, async () => {
    sessions++;
    let sent = 0;
    const onBytes = (n: number) => {
      sent += n;
      if (sent > reported) {
        opts.onBytes?.(sent - reported);
        reported = sent;
      }
    };
    const mount = opts.mountFrom && src.digest && opts.mountFrom !== repository ? { digest: src.digest, from: opts.mountFrom } : undefined;
    const session = await startSession(client, repository, scopes, ctx, mount);
    if (session.mounted) {
      return { digest: src.digest!, size: src.size ?? 0, how: 'mounted' as const, sessions };
    }
    try {
      if (src.digest && src.size !== undefined && src.size <= opts.chunkThreshold) {
        await monolithic(client, session.location, { ...src, digest: src.digest, size: src.size }, scopes, ctx, onBytes);
        return { digest: src.digest, size: src.size, how: 'uploaded' as const, sessions };
      }
      const got = await chunked(client, session.location, src, Math.max(opts.chunkSize, session.minChunk), scopes, ctx, onBytes);
      return { ...got, how: 'uploaded' as const, sessions };
    } catch (err) {
      await cancel(client, session.location, scopes, ctx);
      throw err;
    }
  });
}
