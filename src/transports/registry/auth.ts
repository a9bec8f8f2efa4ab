import { LayerwiseError } from '../../errors.js';
import type { Challenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { errorForResponse, RegistryError } from './errors.js';

/** A token scope from the Docker token spec: `repository:<name>:<actions>`. */
export function repositoryScope(repository: string, actions: readonly ('pull' | 'push')[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/** What the authenticator needs from HTTP: one request, its status, headers and (small) body. */
export type TokenFetch = (req: { method: 'GET' | 'POST'; url: URL; headers: Record<string, string>; body?: Buffer }) => Promise<{ status: number; body: Buffer }>;

interface Token {
  value: string;
  expiresAt: number;
}

/** Tokens are treated as expired this long before the server's expiry, so a request never races it. */
const EXPIRY_MARGIN_MS = 10_000;
/** The token spec: a missing or smaller expires_in means 60 seconds. */
const MIN_TOKEN_SECONDS = 60;

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}

/**
 * Authorization for one registry: none, Basic, or Bearer tokens fetched from the challenge's realm with
 * the service and scopes, cached per scope set until they expire. Concurrent requests for the same
 * scopes share one token request.
 */
export class Authenticator {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<Token>>();
  private creds: Promise<Credentials | undefined> | undefined;
  /** Token requests made, for tests and diagnostics. */
  tokenRequests = 0;

  constructor(
    private readonly registry: string,
    private readonly loadCredentials: () => Promise<Credentials | undefined>,
    private readonly fetchToken: TokenFetch,
    private readonly allowPlainHttpRealm: boolean,
  ) {}

  credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.loadCredentials();
    return this.creds;
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** Adopts the challenge from a ping or a 401. Tokens from an earlier realm are dropped. */
  setChallenge(c: Challenge | undefined): void {
    const before = this.challenge;
    this.challenge = c;
    if (before?.params.realm !== c?.params.realm || before?.params.service !== c?.params.service) this.tokens.clear();
  }

  /** The Authorization header value for a request needing `scopes`, or undefined for anonymous. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      const creds = await this.credentials();
      if (creds?.kind !== 'basic') return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (c.scheme !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    let pending = this.tokens.get(key);
    if (pending) {
      const t = await pending.catch(() => undefined);
      if (t && t.expiresAt > Date.now()) return `Bearer ${t.value}`;
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
    }
    pending = this.requestToken(c, scopes);
    this.tokens.set(key, pending);
    pending.catch(() => {
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
    });
    return `Bearer ${(await pending).value}`;
  }

  /** Forgets the cached token for these scopes (after the registry refused it). */
  forget(scopes: readonly string[]): void {
    this.tokens.delete(scopeKey(scopes));
  }

  private async requestToken(c: Challenge, scopes: readonly string[]): Promise<Token> {
    const realmText = c.params.realm;
    if (!realmText) throw new RegistryError('REGISTRY_AUTH', `${this.registry}: Bearer challenge without a realm`, { subject: this.registry });
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new RegistryError('REGISTRY_AUTH', `${this.registry}: token realm ${JSON.stringify(realmText)} is not a URL`, { subject: this.registry });
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new RegistryError('REGISTRY_AUTH', `${this.registry}: token realm ${realm.href} is not http(s)`, { subject: this.registry });
    }
    if (realm.protocol === 'http:' && !this.allowPlainHttpRealm && !isLoopbackHost(realm.hostname)) {
      throw new RegistryError('REGISTRY_AUTH', `${this.registry}: refusing to send credentials to plain-HTTP token realm ${realm.origin} (use --insecure to allow)`, { subject: this.registry });
    }
    const creds = await this.credentials();
    const allScopes = [...new Set([...scopes, ...(c.params.scope ? c.params.scope.split(' ').filter(Boolean) : [])])];
    const service = c.params.service;
    let res: { status: number; body: Buffer };
    this.tokenRequests++;
    if (creds?.kind === 'identity-token') {
      // An identity token is an OAuth2 refresh token: POST it to the realm (docker's "oauth" flow).
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.token, client_id: 'layerwise' });
      if (service) form.set('service', service);
      if (allScopes.length) form.set('scope', allScopes.join(' '));
      res = await this.fetchToken({ method: 'POST', url: realm, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) });
    } else {
      const url = new URL(realm.href);
      if (service) url.searchParams.set('service', service);
      for (const s of allScopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds) {
        url.searchParams.set('account', creds.username);
        headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
      res = await this.fetchToken({ method: 'GET', url, headers });
    }
    if (res.status === 401 || res.status === 403) {
      throw credentialsRefused(this.registry, creds, res.status);
    }
    if (res.status !== 200) {
      const err = errorForResponse({ registry: this.registry, action: 'get a token' }, res.status, res.body);
      throw new RegistryError(err.code === 'REGISTRY_AUTH' ? 'REGISTRY_AUTH' : 'REGISTRY_ERROR', `${this.registry}: token server ${realm.origin} answered HTTP ${res.status}`, { status: res.status, transient: err.transient, subject: this.registry });
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryError('REGISTRY_AUTH', `${this.registry}: token server ${realm.origin} sent malformed JSON`, { subject: this.registry });
    }
    const value = typeof parsed.token === 'string' && parsed.token ? parsed.token : typeof parsed.access_token === 'string' ? parsed.access_token : '';
    if (!value) throw new RegistryError('REGISTRY_AUTH', `${this.registry}: token server ${realm.origin} sent no token`, { subject: this.registry });
    const seconds = typeof parsed.expires_in === 'number' && parsed.expires_in > MIN_TOKEN_SECONDS ? parsed.expires_in : MIN_TOKEN_SECONDS;
    return { value, expiresAt: Date.now() + seconds * 1000 - EXPIRY_MARGIN_MS };
  }
}

/** The one message for "the registry (or its token server) said no to these credentials". */
export function credentialsRefused(registry: string, creds: Credentials | undefined, status: number): LayerwiseError {
  if (!creds) {
    return new RegistryError('REGISTRY_AUTH', `${registry}: anonymous access refused (HTTP ${status}); give --creds USER:PASSWORD or log in with docker login`, { status, subject: registry });
  }
  const who = creds.kind === 'basic' ? `user "${creds.username}"` : 'the identity token';
  return new RegistryError('REGISTRY_AUTH', `${registry}: authentication failed for ${who} from ${creds.source} (wrong user name or password?)`, { status, subject: registry });
}
