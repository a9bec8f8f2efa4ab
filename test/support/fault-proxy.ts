import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyEntry {
  method: string;
  url: string;
  range: string | undefined;
  contentRange: string | undefined;
  /** Declared request body length. */
  contentLength: number;
  /** Request body bytes that reached the registry. */
  requestBytes: number;
  /** Response body bytes sent to the client. */
  responseBytes: number;
  status: number;
  /** What the proxy did to this exchange. */
  fault?: 'cut-response' | 'cut-request' | 'corrupt' | 'corrupt-request' | 'refused' | 'range-ignored' | 'replaced';
}

export interface FaultRules {
  /** Send only this many response body bytes, then drop the connection. */
  cutResponse?(e: ProxyEntry): number | undefined;
  /** Forward only this many request body bytes, then drop the connection. */
  cutRequest?(e: ProxyEntry): number | undefined;
  /** Flip the bits of the response body byte at this offset. */
  corruptResponse?(e: ProxyEntry): number | undefined;
  /** Flip the bits of the request body byte at this offset. */
  corruptRequest?(e: ProxyEntry): number | undefined;
  /** Answer with this status (and an OCI error body) instead of forwarding. */
  respond?(e: ProxyEntry): number | undefined;
  /** Drop the Range header, as a server without range support would ignore it. */
  ignoreRange?(e: ProxyEntry): boolean;
  /**
   * A hostile registry: given the real response, returns what to send instead (headers are merged,
   * null deletes one; a body replaces the real one and gets its Content-Length, unless `chunked`).
   */
  replace?(e: ProxyEntry, real: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }): ReplacedResponse | undefined;
}

export interface ReplacedResponse {
  status?: number;
  headers?: Record<string, string | null>;
  body?: Buffer;
  /** Send the body without a Content-Length. */
  chunked?: boolean;
}

export interface FaultProxy {
  /** host:port of the proxy, to use in docker:// references instead of the registry's. */
  host: string;
  log: ProxyEntry[];
  rules: FaultRules;
  close(): Promise<void>;
}

export const isBlobGet = (e: ProxyEntry) => e.method === 'GET' && /\/blobs\/sha256:[0-9a-f]{64}$/.test(e.url);
export const isBlobUpload = (e: ProxyEntry) => (e.method === 'PUT' || e.method === 'PATCH') && e.url.includes('/blobs/uploads/');

/** Sum of blob bytes sent to the registry in PUT/PATCH bodies. */
export function uploadedBytes(log: ProxyEntry[]): number {
  return log.filter(isBlobUpload).reduce((s, e) => s + e.requestBytes, 0);
}

/**
 * An HTTP proxy on loopback in front of a plain-HTTP registry, logging every exchange and injecting
 * faults on request: connections cut mid-body in either direction, a byte flipped. It forwards the Host
 * header unchanged, so the registry's upload Locations point back through the proxy.
 */
export async function startFaultProxy(target: { port: number }, rules: FaultRules = {}): Promise<FaultProxy> {
  const log: ProxyEntry[] = [];
  const proxy: FaultProxy = { host: '', log, rules, close: async () => {} };
  const server = http.createServer((req, res) => {
    const e: ProxyEntry = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      range: req.headers.range,
      contentRange: req.headers['content-range'] as string | undefined,
      contentLength: Number(req.headers['content-length'] ?? 0),
      requestBytes: 0,
      responseBytes: 0,
      status: 0,
    };
    log.push(e);
    const drop = () => {
      req.socket.destroy();
    };
    const status = proxy.rules.respond?.(e);
    if (status !== undefined) {
      e.status = status;
      e.fault = 'refused';
      req.resume();
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected by the test proxy' }] }));
      return;
    }
    const headers = { ...req.headers };
    if (headers.range && proxy.rules.ignoreRange?.(e)) {
      delete headers.range;
      e.fault = 'range-ignored';
    }
    const corruptReq = proxy.rules.corruptRequest?.(e);
    const upstream = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers, agent: false }, (ures) => {
      e.status = ures.statusCode ?? 0;
      if (proxy.rules.replace) {
        const parts: Buffer[] = [];
        ures.on('data', (c: Buffer) => parts.push(c));
        ures.on('error', drop);
        ures.on('end', () => {
          const real = { status: e.status, headers: ures.headers, body: Buffer.concat(parts) };
          const r = proxy.rules.replace!(e, real);
          const out: http.OutgoingHttpHeaders = { ...ures.headers };
          let body: Buffer = real.body;
          if (r) {
            e.fault = 'replaced';
            for (const [k, v] of Object.entries(r.headers ?? {})) {
              if (v === null) delete out[k.toLowerCase()];
              else out[k.toLowerCase()] = v;
            }
            if (r.body) body = r.body;
            delete out['content-length'];
            delete out['transfer-encoding'];
            if (!r.chunked && req.method !== 'HEAD') out['content-length'] = String(body.length);
          }
          e.status = r?.status ?? real.status;
          res.writeHead(e.status, out);
          e.responseBytes = req.method === 'HEAD' ? 0 : body.length;
          res.end(req.method === 'HEAD' ? undefined : body);
        });
        return;
      }
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      const cut = proxy.rules.cutResponse?.(e);
      const corrupt = proxy.rules.corruptResponse?.(e);
      ures.on('data', (chunk: Buffer) => {
        if (corrupt !== undefined && corrupt >= e.responseBytes && corrupt < e.responseBytes + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[corrupt - e.responseBytes] ^= 0xff;
          e.fault = 'corrupt';
        }
        if (cut !== undefined && e.responseBytes + chunk.length >= cut) {
          const part = chunk.subarray(0, cut - e.responseBytes);
          e.responseBytes += part.length;
          e.fault = 'cut-response';
          ures.destroy();
          res.write(part, () => setTimeout(drop, 20));
          return;
        }
        e.responseBytes += chunk.length;
        if (!res.write(chunk)) {
          ures.pause();
          res.once('drain', () => ures.resume());
        }
      });
      ures.on('end', () => res.end());
      ures.on('error', drop);
    });
    upstream.on('error', drop);
    const cutReq = proxy.rules.cutRequest?.(e);
    req.on('data', (chunk: Buffer) => {
      if (e.fault === 'cut-request') return;
      if (cutReq !== undefined && e.requestBytes + chunk.length >= cutReq) {
        const part = chunk.subarray(0, cutReq - e.requestBytes);
        e.requestBytes += part.length;
        e.fault = 'cut-request';
        upstream.write(part);
        upstream.destroy();
        drop();
        return;
      }
      if (corruptReq !== undefined && corruptReq >= e.requestBytes && corruptReq < e.requestBytes + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[corruptReq - e.requestBytes] ^= 0xff;
        e.fault = 'corrupt-request';
      }
      e.requestBytes += chunk.length;
      if (!upstream.write(chunk)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      if (e.fault !== 'cut-request') upstream.end();
    });
    req.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
