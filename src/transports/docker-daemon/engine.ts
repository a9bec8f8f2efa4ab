import http, { type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { LayerwiseError } from '../../errors.js';

export interface EngineEndpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  display: string;
}

/** Where the engine listens: DOCKER_HOST (unix:// or tcp://), else the default socket. */
export function engineEndpoint(dockerHost = process.env.DOCKER_HOST): EngineEndpoint {
  const h = dockerHost && dockerHost.length > 0 ? dockerHost : 'unix:///var/run/docker.sock';
  if (h.startsWith('unix://')) return { socketPath: h.slice(7), display: h };
  if (h.startsWith('tcp://') || h.startsWith('http://')) {
    const u = new URL(h.replace(/^tcp:/, 'http:'));
    return { host: u.hostname, port: Number(u.port || 2375), display: h };
  }
  throw new LayerwiseError('USAGE', `DOCKER_HOST=${h}: only unix:// and tcp:// engines are supported`);
}

export interface EngineRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  /** A request body written by the callback (for streamed uploads), or a buffer. */
  body?: Buffer | ((req: http.ClientRequest) => Promise<void>);
  timeoutMs?: number;
}

/** A minimal Docker Engine API client: only what layerwise needs, streaming both ways. */
export class EngineClient {
  readonly endpoint: EngineEndpoint;

  constructor(dockerHost?: string) {
    this.endpoint = engineEndpoint(dockerHost);
  }

  request(req: EngineRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const r = http.request({
        socketPath: this.endpoint.socketPath,
        host: this.endpoint.socketPath ? undefined : this.endpoint.host,
        port: this.endpoint.socketPath ? undefined : this.endpoint.port,
        method: req.method,
        path: req.path,
        headers: { Host: 'docker', ...(req.headers ?? {}) },
      });
      let settled = false;
      r.on('response', (res) => {
        settled = true;
        resolve(res);
      });
      r.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        if (['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE'].includes(err.code ?? '')) {
          reject(new LayerwiseError('ENGINE_UNREACHABLE', `cannot reach the Docker engine at ${this.endpoint.display} (${err.code}); is dockerd running and DOCKER_HOST right?`, { cause: err }));
        } else reject(new LayerwiseError('ENGINE_ERROR', `Docker engine at ${this.endpoint.display}: ${err.message}`, { cause: err }));
      });
      if (req.timeoutMs) r.setTimeout(req.timeoutMs, () => r.destroy(new Error(`no answer in ${req.timeoutMs} ms`)));
      if (req.body === undefined) r.end();
      else if (Buffer.isBuffer(req.body)) r.end(req.body);
      else req.body(r).catch((err) => {
        if (!settled) {
          settled = true;
          reject(err);
        }
        r.destroy(err);
      });
    });
  }

  async readBody(res: IncomingMessage, max = 16 * 1024 * 1024): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of res as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > max) throw new LayerwiseError('ENGINE_ERROR', `Docker engine answer over ${max} bytes`);
      parts.push(c);
    }
    return Buffer.concat(parts);
  }

  async json<T = unknown>(method: EngineRequest['method'], path: string): Promise<{ status: number; body: T }> {
    const res = await this.request({ method, path });
    const text = (await this.readBody(res)).toString('utf8');
    let body: unknown = text;
    try {
      body = text.length ? JSON.parse(text) : undefined;
    } catch {
      // plain-text error bodies happen on old engines
    }
    return { status: res.statusCode ?? 0, body: body as T };
  }

  async version(): Promise<{ Version: string; ApiVersion: string; Os: string; Arch: string }> {
    const { status, body } = await this.json<{ Version: string; ApiVersion: string; Os: string; Arch: string }>('GET', '/version');
    if (status !== 200) throw new LayerwiseError('ENGINE_ERROR', `Docker engine /version answered ${status}`);
    return body;
  }

  async info(): Promise<Record<string, unknown>> {
    const { status, body } = await this.json<Record<string, unknown>>('GET', '/info');
    if (status !== 200) throw new LayerwiseError('ENGINE_ERROR', `Docker engine /info answered ${status}`);
    return body;
  }

  /** GET /images/{name}/json; undefined when the engine does not have the image. */
  async inspectImage(name: string): Promise<EngineImage | undefined> {
    const { status, body } = await this.json<EngineImage & { message?: string }>('GET', `/images/${encodeURIComponent(name)}/json`);
    if (status === 404) return undefined;
    if (status !== 200) throw new LayerwiseError('ENGINE_ERROR', `Docker engine: inspect ${name}: ${errorText(body)}`);
    return body;
  }

  /** GET /images/get: a docker-archive stream of the named images. */
  async save(names: string[]): Promise<Readable> {
    const q = names.map((n) => `names=${encodeURIComponent(n)}`).join('&');
    const res = await this.request({ method: 'GET', path: `/images/get?${q}` });
    if (res.statusCode !== 200) {
      const text = (await this.readBody(res)).toString('utf8');
      if (res.statusCode === 404) throw new LayerwiseError('IMAGE_NOT_FOUND', `Docker engine has no image ${names.join(', ')}`);
      throw new LayerwiseError('ENGINE_ERROR', `Docker engine: save ${names.join(', ')}: ${errorText(safeJson(text))}`);
    }
    return res;
  }

  /** POST /images/load with a streamed docker-archive; returns the engine's progress messages. */
  async load(write: (req: http.ClientRequest) => Promise<void>): Promise<string[]> {
    const res = await this.request({
      method: 'POST',
      path: '/images/load?quiet=1',
      headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' },
      body: async (req) => {
        await write(req);
      },
    });
    const text = (await this.readBody(res)).toString('utf8');
    const messages: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const m = safeJson(line) as { stream?: string; error?: string; errorDetail?: { message?: string } } | string;
      if (typeof m === 'string') messages.push(m);
      else if (m.error || m.errorDetail) {
        throw new LayerwiseError('ENGINE_ERROR', `Docker engine refused the load: ${m.errorDetail?.message ?? m.error}`);
      } else if (m.stream) messages.push(m.stream.trim());
    }
    if (res.statusCode !== 200) throw new LayerwiseError('ENGINE_ERROR', `Docker engine: load answered ${res.statusCode}: ${text.slice(0, 300)}`);
    return messages;
  }

  async tag(source: string, repo: string, tag: string): Promise<void> {
    const { status, body } = await this.json('POST', `/images/${encodeURIComponent(source)}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
    if (status !== 201 && status !== 200) throw new LayerwiseError('ENGINE_ERROR', `Docker engine: tag ${source} as ${repo}:${tag}: ${errorText(body)}`);
  }
}

export interface EngineImage {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests?: string[];
  Size?: number;
  RootFS?: { Type: string; Layers?: string[] };
  GraphDriver?: { Name: string; Data?: Record<string, string> };
  Os?: string;
  Architecture?: string;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorText(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return String(body).slice(0, 300);
}
