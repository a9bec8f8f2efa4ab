import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenRequest {
  account: string | undefined;
  /** undefined: no credentials; false: wrong ones. */
  authenticated: boolean | undefined;
  scopes: string[];
  service: string | null;
  /** Set for the POST (OAuth2) form: "refresh_token". */
  grant?: string;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A Docker token server (the "realm" of a Bearer challenge) on loopback: checks Basic credentials,
 * grants what was asked to the known user (pull only to anonymous callers when `anonymousPull`), and
 * answers a JWT signed with an EC P-256 key whose certificate the registry trusts (rootcertbundle).
 * The certificate rides in the x5c header, which docker-registry 2.8 verifies against that bundle.
 */
export async function startTokenServer(opts: { cert: string; key: string; users: Record<string, string>; anonymousPull?: boolean; refreshTokens?: Record<string, string> }): Promise<TokenServer> {
  const key = createPrivateKey(readFileSync(opts.key));
  const certDer = new X509Certificate(readFileSync(opts.cert)).raw;
  const service = 'lw-test-registry';
  const issuer = 'lw-test-issuer';
  const requests: TokenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    let account: string | undefined;
    let authenticated: boolean | undefined;
    let params = url.searchParams;
    let grant: string | undefined;
    if (req.method === 'POST') {
      // The OAuth2 form docker uses with an identity token: grant_type=refresh_token&refresh_token=...
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      params = new URLSearchParams(Buffer.concat(parts).toString('utf8'));
      grant = params.get('grant_type') ?? undefined;
      const refresh = params.get('refresh_token') ?? '';
      account = opts.refreshTokens?.[refresh];
      authenticated = grant === 'refresh_token' && account !== undefined;
    }
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      account = u;
      authenticated = opts.users[u!] !== undefined && opts.users[u!] === p.join(':');
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    requests.push({ account, authenticated, scopes, service: params.get('service'), ...(grant ? { grant } : {}) });
    if (authenticated === false) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'wrong credentials' }));
      return;
    }
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
      let granted = actions.split(',').filter(Boolean);
      if (!authenticated) granted = opts.anonymousPull ? granted.filter((a) => a === 'pull') : [];
      return granted.length ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: account ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${signingInput}.${b64url(signature)}`;
    const body = grant ? { access_token: token, expires_in: 300 } : { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
