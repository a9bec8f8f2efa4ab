import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { LayerwiseError } from '../../errors.js';
import { isDigest, sha256, type Digest } from '../../model/digest.js';
import { MAX_JSON_BYTES } from '../../model/json.js';
import { MediaType } from '../../model/media-types.js';
import { VerifyingStream } from '../../stream/verify.js';
import { chain } from '../../image/blob-layer.js';
import { Authenticator, credentialsRefused, isLoopbackHost, repositoryScope } from './auth.js';
import { resumableBlobStream } from './blob-stream.js';
import { parseChallenges, pickChallenge } from './challenge.js';
import { resolveCredentials, type CredentialOptions } from './credentials.js';
import { errorForNetwork, errorForResponse, RegistryError, type RequestContext } from './errors.js';
import { drain, header, HttpTransport, readBody } from './http.js';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from './retry.js';
import { uploadBlob, type BlobSource, type UploadOptions, type UploadOutcome } from './upload.js';

/** Every manifest and index type layerwise understands, for the Accept header. */
export const MANIFEST_ACCEPT = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList];

export interface RegistryClientOptions extends CredentialOptions {
  /** Allow plain HTTP (tried after HTTPS) and unverified TLS. */
  insecure?: boolean;
  /** PEM file with extra CA certificates to trust. */
  caFile?: string;
  retry?: Partial<RetryPolicy>;
  /** A connection with no data for this long is treated as dropped (and retried or resumed). */
  idleTimeoutMs?: number;
  /** Blobs up to this size are uploaded in one PUT; larger or unknown-size ones in PATCH chunks. */
  chunkThreshold?: number;
  /** Size of each PATCH chunk (held in memory while it is sent). */
  chunkSize?: number;
}

export const DEFAULT_CHUNK_THRESHOLD = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

export interface FetchedManifest {
  bytes: Buffer;
  /** Content-Type the registry served it with (parameters stripped), or the mediaType inside the JSON. */
  mediaType: string;
  digest: Digest;
}

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the registry ("/v2/..."), or an absolute URL the registry gave (upload locations). */
  path?: string;
  url?: URL;
  scopes: readonly string[];
  headers?: Record<string, string>;
  /** A buffer, or a function opening a stream (called again if the request must be repeated). */
  body?: Buffer | (() => Promise<Readable>);
  ctx: RequestContext;
  /** Retry transient failures (default true). Uploads that stream into a session turn this off and restart the session instead. */
  retry?: boolean;
}

const USER_AGENT = 'layerwise';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function stripParams(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim() || undefined;
}

/**
 * A client for one registry, speaking the OCI distribution spec: ping and auth, manifests and blobs
 * by digest, uploads. Everything an image copy does goes through these public methods, so pushing an
 * arbitrary artifact (any manifest with custom blobs) is the same few calls.
 */
export class RegistryClient {
  readonly registry: string;
  /** The host the API is served from (Docker Hub's API is not at docker.io). */
  readonly apiHost: string;
  readonly retry: RetryPolicy;
  readonly auth: Authenticator;
  readonly upload: Required<Pick<RegistryClientOptions, 'chunkThreshold' | 'chunkSize'>>;
  private readonly http: HttpTransport;
  private base: URL | undefined;
  private ready_: Promise<void> | undefined;
  private readonly insecure: boolean;

  private constructor(registry: string, opts: RegistryClientOptions, ca: Buffer | undefined) {
    this.registry = registry;
    this.apiHost = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    this.insecure = !!opts.insecure;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.upload = { chunkThreshold: opts.chunkThreshold ?? DEFAULT_CHUNK_THRESHOLD, chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE };
    if (!(this.upload.chunkSize > 0)) throw new LayerwiseError('USAGE', `chunk size ${this.upload.chunkSize} must be positive`);
    this.http = new HttpTransport({ ca, insecure: opts.insecure }, opts.idleTimeoutMs);
    const credOpts: CredentialOptions = { creds: opts.creds, authFile: opts.authFile, env: opts.env };
    this.auth = new Authenticator(
      registry,
      () => resolveCredentials(registry, credOpts),
      async (req) => {
        let res: IncomingMessage;
        try {
          res = await this.http.send({ method: req.method, url: req.url, headers: { 'User-Agent': USER_AGENT, ...req.headers }, body: req.body });
        } catch (err) {
          throw errorForNetwork(req.url.host, err, 'token server');
        }
        return { status: res.statusCode ?? 0, body: await readBody(res, 1024 * 1024, `${req.url.origin} token`) };
      },
      this.insecure,
    );
  }

  static async create(registry: string, opts: RegistryClientOptions = {}): Promise<RegistryClient> {
    let ca: Buffer | undefined;
    if (opts.caFile) {
      try {
        ca = await readFile(opts.caFile);
      } catch (err) {
        throw new LayerwiseError('USAGE', `--ca-file ${opts.caFile}: ${(err as Error).message}`, { subject: opts.caFile });
      }
      if (!/-----BEGIN CERTIFICATE-----/.test(ca.toString('latin1'))) {
        throw new LayerwiseError('USAGE', `--ca-file ${opts.caFile}: no PEM certificate in it`, { subject: opts.caFile });
      }
    }
    return new RegistryClient(registry, opts, ca);
  }

  /** True when this client talks plain HTTP to a host that is not loopback (worth a warning). */
  get insecureRemote(): boolean {
    return this.insecure && !isLoopbackHost(this.apiHost.replace(/:\d+$/, ''));
  }

  close(): void {
    this.http.close();
  }

  /** The base URL after the ping: https://host or, with --insecure and no TLS there, http://host. */
  async baseUrl(): Promise<URL> {
    await this.ready();
    return this.base!;
  }

  private ready(): Promise<void> {
    this.ready_ ??= this.ping();
    this.ready_.catch(() => {
      this.ready_ = undefined;
    });
    return this.ready_;
  }

  /**
   * GET /v2/: finds the scheme (HTTPS, or HTTP with --insecure) and how the registry wants to be
   * authenticated (the WWW-Authenticate challenge of its 401).
   */
  private async ping(): Promise<void> {
    const schemes = this.insecure ? ['https:', 'http:'] : ['https:'];
    const ctx: RequestContext = { registry: this.registry, action: 'reach the registry' };
    await withRetries(this.retry, async () => {
      let last: unknown;
      for (const scheme of schemes) {
        const base = new URL(`${scheme}//${this.apiHost}/`);
        let res: IncomingMessage;
        try {
          res = await this.http.send({ method: 'GET', url: new URL('/v2/', base), headers: { 'User-Agent': USER_AGENT } });
        } catch (err) {
          last = errorForNetwork(this.registry, err);
          continue;
        }
        const status = res.statusCode ?? 0;
        if (status === 200 || status === 401) {
          const challenge = status === 401 ? pickChallenge(parseChallenges(header(res, 'www-authenticate'))) : undefined;
          await drain(res);
          this.base = base;
          this.auth.setChallenge(challenge);
          return;
        }
        const body = await readBody(res, 64 * 1024, `${this.registry} /v2/`).catch(() => Buffer.alloc(0));
        if (status === 404) {
          throw new RegistryError('REGISTRY_ERROR', `${this.registry}: ${base.origin} does not serve the registry API (GET /v2/ is 404)`, { status, subject: this.registry });
        }
        throw errorForResponse(ctx, status, body, header(res, 'www-authenticate'));
      }
      throw last;
    });
  }

  /**
   * One API request with auth (adopting a new challenge once on 401), redirects for GET/HEAD (without
   * credentials when they leave the registry's origin), and retries with backoff for transient failures.
   * Returns the response for any status that is not transient; the caller checks it.
   */
  async request(spec: RequestSpec): Promise<IncomingMessage> {
    await this.ready();
    const once = () => this.requestOnce(spec);
    return spec.retry === false ? once() : withRetries(this.retry, once);
  }

  private async requestOnce(spec: RequestSpec): Promise<IncomingMessage> {
    const base = this.base!;
    let url = spec.url ?? new URL(spec.path!, base);
    let reauthenticated = false;
    let redirects = 0;
    for (;;) {
      const sameOrigin = url.origin === base.origin;
      const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...spec.headers };
      const authorization = sameOrigin ? await this.auth.authorization(spec.scopes) : undefined;
      if (authorization) headers.Authorization = authorization;
      const body = spec.body === undefined || Buffer.isBuffer(spec.body) ? spec.body : await spec.body();
      let res: IncomingMessage;
      try {
        res = await this.http.send({ method: spec.method, url, headers, body });
      } catch (err) {
        if (body && !Buffer.isBuffer(body)) body.destroy();
        throw errorForNetwork(this.registry, err);
      }
      const status = res.statusCode ?? 0;
      if (status === 401 && sameOrigin) {
        const wa = header(res, 'www-authenticate');
        const challenge = pickChallenge(parseChallenges(wa));
        const errBody = await readBody(res, 64 * 1024, url.pathname).catch(() => Buffer.alloc(0));
        if (!reauthenticated && challenge && (challenge.scheme !== this.auth.scheme || !authorization || challenge.scheme === 'bearer')) {
          // A first challenge here (the ping needed none), or a token the registry no longer takes.
          reauthenticated = true;
          this.auth.forget(spec.scopes);
          this.auth.setChallenge(challenge);
          continue;
        }
        if (authorization?.startsWith('Basic ')) throw credentialsRefused(this.registry, await this.auth.credentials(), status);
        if (!authorization) throw credentialsRefused(this.registry, await this.auth.credentials(), status);
        throw errorForResponse(spec.ctx, status, errBody, wa);
      }
      if (REDIRECTS.has(status) && (spec.method === 'GET' || spec.method === 'HEAD')) {
        const location = header(res, 'location');
        await drain(res);
        if (!location || ++redirects > 5) {
          throw new RegistryError('REGISTRY_ERROR', `${this.registry}: ${location ? 'too many redirects' : `HTTP ${status} without Location`} for ${url.pathname}`, { status, subject: this.registry });
        }
        url = new URL(location, url);
        continue;
      }
      if (status >= 500 || status === 429 || status === 408) {
        const errBody = await readBody(res, 64 * 1024, url.pathname).catch(() => Buffer.alloc(0));
        throw errorForResponse(spec.ctx, status, errBody);
      }
      return res;
    }
  }

  /** Turns an unexpected response into the error to throw (reading its error body). */
  async failure(res: IncomingMessage, ctx: RequestContext): Promise<LayerwiseError> {
    const body = await readBody(res, 64 * 1024, ctx.registry).catch(() => Buffer.alloc(0));
    return errorForResponse(ctx, res.statusCode ?? 0, body, header(res, 'www-authenticate'));
  }

  /** GET of a small document (manifest, config) read whole, retried as one unit, dropped connections included. */
  private async fetchSmall(spec: RequestSpec, max: number, ok: (status: number) => boolean): Promise<{ res: IncomingMessage; bytes: Buffer }> {
    await this.ready();
    return withRetries(this.retry, async () => {
      const res = await this.requestOnce(spec);
      if (!ok(res.statusCode ?? 0)) throw await this.failure(res, spec.ctx);
      try {
        return { res, bytes: await readBody(res, max, `${spec.ctx.registry}/${spec.ctx.repository ?? ''}`) };
      } catch (err) {
        throw errorForNetwork(this.registry, err);
      }
    });
  }

  pullScope(repository: string): string[] {
    return [repositoryScope(repository, ['pull'])];
  }

  pushScope(repository: string, mountFrom?: string): string[] {
    const s = [repositoryScope(repository, ['pull', 'push'])];
    if (mountFrom) s.push(repositoryScope(mountFrom, ['pull']));
    return s;
  }

  /**
   * Fetches a manifest or index by tag or digest, accepting all four OCI/Docker types (or `accept`).
   * By digest, the bytes must hash to it; by tag, they must match the Docker-Content-Digest header when
   * the registry sends one.
   */
  async getManifest(repository: string, reference: string, opts: { accept?: string[] } = {}): Promise<FetchedManifest> {
    const byDigest = isDigest(reference);
    const ctx: RequestContext = { registry: this.registry, repository, object: byDigest ? `manifest ${reference}` : `tag "${reference}"`, action: 'pull' };
    const { res, bytes } = await this.fetchSmall(
      { method: 'GET', path: `/v2/${repository}/manifests/${reference}`, scopes: this.pullScope(repository), headers: { Accept: (opts.accept ?? MANIFEST_ACCEPT).join(', ') }, ctx },
      MAX_JSON_BYTES,
      (s) => s === 200,
    );
    const digest = sha256(bytes);
    const where = `${this.registry}/${repository}@${reference}`;
    if (byDigest && digest !== reference) {
      throw new LayerwiseError('DIGEST_MISMATCH', `${where}: manifest content is ${digest}, not the digest asked for`, { subject: where });
    }
    const claimed = header(res, 'docker-content-digest');
    if (!byDigest && claimed && isDigest(claimed) && claimed !== digest) {
      throw new LayerwiseError('DIGEST_MISMATCH', `${where}: manifest content is ${digest}, registry says ${claimed}`, { subject: where });
    }
    let mediaType = stripParams(header(res, 'content-type'));
    if (!mediaType || mediaType === 'application/json' || mediaType === 'application/octet-stream') {
      try {
        const v = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
        if (typeof v.mediaType === 'string') mediaType = v.mediaType;
      } catch {
        /* the parser that reads it next reports malformed JSON */
      }
    }
    return { bytes, mediaType: mediaType ?? '', digest };
  }

  /** HEAD of a manifest: its descriptor when it exists, undefined when not. */
  async headManifest(repository: string, reference: string): Promise<{ digest: Digest | undefined; size: number | undefined; mediaType: string | undefined } | undefined> {
    const ctx: RequestContext = { registry: this.registry, repository, object: `manifest ${reference}`, action: 'pull' };
    const res = await this.request({ method: 'HEAD', path: `/v2/${repository}/manifests/${reference}`, scopes: this.pullScope(repository), headers: { Accept: MANIFEST_ACCEPT.join(', ') }, ctx });
    await drain(res);
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw await this.failure(res, ctx);
    const d = header(res, 'docker-content-digest');
    const size = Number(header(res, 'content-length'));
    return { digest: isDigest(d) ? d : undefined, size: Number.isFinite(size) ? size : undefined, mediaType: stripParams(header(res, 'content-type')) };
  }

  /**
   * PUT of a manifest (or index, or artifact manifest) under a tag or its digest, with exactly these
   * bytes and this Content-Type, so its digest is what the caller computed. Returns that digest.
   */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const digest = sha256(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new LayerwiseError('DIGEST_MISMATCH', `${this.registry}/${repository}: cannot store a manifest with digest ${digest} under ${reference}`);
    }
    const ctx: RequestContext = { registry: this.registry, repository, object: `manifest ${digest}`, action: 'push' };
    const res = await this.request({
      method: 'PUT',
      path: `/v2/${repository}/manifests/${reference}`,
      scopes: this.pushScope(repository),
      headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) },
      body: bytes,
      ctx,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200 && res.statusCode !== 202) throw await this.failure(res, ctx);
    await drain(res);
    const claimed = header(res, 'docker-content-digest');
    if (claimed && isDigest(claimed) && claimed !== digest) {
      throw new LayerwiseError('DIGEST_MISMATCH', `${this.registry}/${repository}: registry stored the manifest as ${claimed}, expected ${digest}`);
    }
    return digest;
  }

  /** HEAD of a blob: true when the repository has it (and, when size is given, at that size). */
  async hasBlob(repository: string, digest: Digest, size?: number, scopes = this.pullScope(repository)): Promise<boolean> {
    const ctx: RequestContext = { registry: this.registry, repository, object: `blob ${digest}`, action: 'pull' };
    const res = await this.request({ method: 'HEAD', path: `/v2/${repository}/blobs/${digest}`, scopes, ctx });
    await drain(res);
    if (res.statusCode === 404) return false;
    if (res.statusCode !== 200) throw await this.failure(res, ctx);
    const len = Number(header(res, 'content-length'));
    return size === undefined || !Number.isFinite(len) || len === size;
  }

  /**
   * A blob as a stream. Verified by default (digest, and size when given): the stream errors at its end
   * if the bytes are wrong. A connection dropped mid-blob is resumed with a Range request from the
   * byte reached, the hash continuing across the resume.
   */
  async getBlob(repository: string, desc: { digest: Digest; size?: number }, opts: { verify?: boolean; subject?: string } = {}): Promise<Readable> {
    await this.ready();
    const subject = opts.subject ?? `${this.registry}/${repository}@${desc.digest}`;
    const ctx: RequestContext = { registry: this.registry, repository, object: `blob ${desc.digest}`, action: 'pull' };
    const raw = await resumableBlobStream({
      size: desc.size,
      retry: this.retry,
      registry: this.registry,
      open: async (offset, resuming) => {
        const res = await this.request({
          method: 'GET',
          path: `/v2/${repository}/blobs/${desc.digest}`,
          scopes: this.pullScope(repository),
          headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
          ctx,
          retry: !resuming,
        });
        const status = res.statusCode ?? 0;
        if (status === 200) return { res, start: 0 };
        if (status === 206) {
          const m = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
          const start = m ? Number(m[1]) : -1;
          if (start < 0 || start > offset) {
            res.destroy();
            throw new RegistryError('REGISTRY_ERROR', `${subject}: asked to resume at byte ${offset}, got Content-Range ${JSON.stringify(header(res, 'content-range'))}`, { subject });
          }
          return { res, start };
        }
        if (status === 416) {
          // Resuming past the end: the registry's blob is shorter than the descriptor says.
          await drain(res);
          throw new LayerwiseError('SIZE_MISMATCH', `${subject}: the registry has fewer than the ${desc.size ?? '?'} bytes expected (truncated blob)`, { subject });
        }
        throw await this.failure(res, ctx);
      },
    });
    if (opts.verify === false) return raw;
    return chain(raw, new VerifyingStream({ digest: desc.digest, size: desc.size, subject }));
  }

  /** A small blob (config, artifact payload) read whole and checked against its digest and size. */
  async getBlobBytes(repository: string, desc: { digest: Digest; size?: number }, max = MAX_JSON_BYTES): Promise<Buffer> {
    const subject = `${this.registry}/${repository}@${desc.digest}`;
    if (desc.size !== undefined && desc.size > max) {
      throw new LayerwiseError('JSON_TOO_LARGE', `${subject}: ${desc.size} bytes is over the ${max}-byte limit`, { subject });
    }
    const ctx: RequestContext = { registry: this.registry, repository, object: `blob ${desc.digest}`, action: 'pull' };
    const { bytes } = await this.fetchSmall({ method: 'GET', path: `/v2/${repository}/blobs/${desc.digest}`, scopes: this.pullScope(repository), ctx }, max, (s) => s === 200);
    const got = sha256(bytes);
    if (got !== desc.digest) throw new LayerwiseError('DIGEST_MISMATCH', `${subject}: content is ${got}`, { subject });
    if (desc.size !== undefined && bytes.length !== desc.size) {
      throw new LayerwiseError('SIZE_MISMATCH', `${subject}: ${bytes.length} bytes, descriptor says ${desc.size}`, { subject });
    }
    return bytes;
  }

  /**
   * Uploads a blob unless the repository has it: cross-repository mount when `mountFrom` names another
   * repository here, else one PUT (small, known digest) or PATCH chunks then PUT. Restarts the upload
   * session on transient failures.
   */
  putBlob(repository: string, source: BlobSource, opts: Partial<UploadOptions> = {}): Promise<UploadOutcome> {
    return uploadBlob(this, repository, source, { ...this.upload, retry: this.retry, ...opts });
  }

  /** Tags of a repository (follows Link pagination). */
  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list`;
    const ctx: RequestContext = { registry: this.registry, repository, action: 'list tags' };
    for (let pages = 0; path && pages < 1000; pages++) {
      const { res, bytes } = await this.fetchSmall({ method: 'GET', path, scopes: this.pullScope(repository), ctx }, MAX_JSON_BYTES, (s) => s === 200);
      const v = JSON.parse(bytes.toString('utf8')) as { tags?: unknown };
      if (Array.isArray(v.tags)) tags.push(...v.tags.filter((t): t is string => typeof t === 'string'));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      path = link ? link[1] : undefined;
    }
    return tags;
  }
}
