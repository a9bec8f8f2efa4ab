import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import tls from 'node:tls';
import { LayerwiseError } from '../../errors.js';

export interface TlsSettings {
  /** Extra CA certificates (PEM), trusted on top of the system roots. */
  ca?: Buffer;
  /** Accept any certificate. Only with --insecure. */
  insecure?: boolean;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A buffer, or a stream that is piped into the request (set Content-Length yourself). */
  body?: Buffer | Readable;
}

/**
 * Node's own http/https with keep-alive agents, one pair per registry client. Close() destroys every
 * socket, so a finished command never waits on an idle connection.
 */
export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private closed = false;

  constructor(settings: TlsSettings, private readonly idleTimeoutMs = 60_000) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: 16,
      ...(settings.ca ? { ca: [...tls.rootCertificates, settings.ca.toString('utf8')] } : {}),
      rejectUnauthorized: !settings.insecure,
    });
  }

  /** Resolves with the response once its headers arrive; the caller consumes or destroys the body. */
  send(req: HttpRequest): Promise<IncomingMessage> {
    if (this.closed) return Promise.reject(new LayerwiseError('INTERNAL', `${req.url.host}: registry client used after close`));
    return new Promise((resolve, reject) => {
      const secure = req.url.protocol === 'https:';
      const options = { method: req.method, headers: req.headers ?? {}, agent: secure ? this.httpsAgent : this.httpAgent, timeout: this.idleTimeoutMs };
      // When the body stream fails (a source that does not verify), that error is the one to report,
      // not the connection reset it causes.
      let bodyError: unknown;
      const r = (secure ? https : http).request(req.url, options, (res) => {
        if (bodyError !== undefined) {
          res.destroy();
          reject(bodyError);
        } else resolve(res);
      });
      r.on('error', (err) => reject(bodyError ?? err));
      r.on('timeout', () => {
        const err = Object.assign(new Error(`no data for ${Math.round(this.idleTimeoutMs / 1000)}s`), { code: 'ETIMEDOUT' });
        r.destroy(err);
      });
      const body = req.body;
      if (body === undefined) r.end();
      else if (Buffer.isBuffer(body)) r.end(body);
      else {
        body.once('error', (err) => {
          bodyError = err;
        });
        pipeline(body, r, (err) => {
          if (err) reject(bodyError ?? err);
        });
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** Reads a response body up to `max` bytes; more is an error rather than unbounded memory. */
export async function readBody(res: IncomingMessage, max: number, where: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.destroy();
    throw new LayerwiseError('JSON_TOO_LARGE', `${where}: ${declared} bytes is over the ${max}-byte limit`, { subject: where });
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) {
      res.destroy();
      throw new LayerwiseError('JSON_TOO_LARGE', `${where}: more than the ${max}-byte limit`, { subject: where });
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Throws away a body we do not need, so the socket can be reused. */
export function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    // `complete` can be true before 'end' is emitted; the socket only returns to the pool at 'end'.
    if (res.readableEnded || res.destroyed) {
      resolve();
      return;
    }
    res.on('end', resolve);
    res.on('error', () => resolve());
    res.on('close', resolve);
    res.resume();
  });
}

export function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}
