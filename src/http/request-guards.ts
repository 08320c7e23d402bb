import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { IncomingHttpHeaders } from 'node:http';
import { bufferBody, freshIncoming } from './body-buffer.js';

/*
 * What tells a request from the operator (a browser on the status page, curl, a script) from
 * one that someone else's web page makes the operator's browser send. On the default loopback
 * bind with no token, these checks are the only protection: any page the operator opens can
 * POST to 127.0.0.1, and a DNS-rebound name can make a page's own origin resolve there.
 */

/** Names that always mean this host. `localhost` is loopback by RFC 6761; nothing ending in it by prefix is. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
/** A wildcard bind address is not a name anyone can put in a Host header legitimately. */
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface HostNameSources {
  /** `http.host`: the address the server binds. */
  bindHost: string;
  /** `http.allowedHosts`: the names a reverse proxy or DNS gives the gateway. */
  allowedHosts: readonly string[];
  /** The platform calls back on `upstream.callbackUrl`; its host must be accepted too. */
  callbackUrl?: string | undefined;
}

/** IPv6 literals are written in brackets in a Host header; names compare case-insensitively. */
function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/** The host names (no ports) the gateway answers to, loopback names excluded (always accepted). */
export function allowedHostNames(src: HostNameSources): string[] {
  const names = new Set<string>();
  if (!WILDCARD_BINDS.has(src.bindHost.trim())) names.add(normalizeName(src.bindHost));
  for (const h of src.allowedHosts) names.add(normalizeName(h));
  if (src.callbackUrl) names.add(normalizeName(new URL(src.callbackUrl).hostname));
  return [...names];
}

/** `Host` header value → lower-cased name without the port, or null when it cannot be one. */
export function hostName(host: string): string | null {
  const h = host.trim().toLowerCase();
  if (h.length === 0 || h.length > 255) return null;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return null;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  const name = colon < 0 ? h : h.slice(0, colon);
  if (colon >= 0 && !/^\d{1,5}$/.test(h.slice(colon + 1))) return null;
  return /^[a-z0-9.-]+$/.test(name) ? name : null;
}

type Refuse = (c: Context, status: 403 | 413 | 415 | 421, error: string) => Response;

/** Every route: the Host header must name this gateway (DNS rebinding sends the attacker's name). */
/** Whether a Host header names this gateway: loopback or one of the configured names. */
export function hostAllowed(names: readonly string[]): (host: string) => boolean {
  const allowed = new Set([...LOOPBACK_NAMES, ...names]);
  return (host) => {
    const name = hostName(host);
    return name !== null && allowed.has(name);
  };
}

export function hostCheck(names: readonly string[], refuse: Refuse): MiddlewareHandler {
  const allowed = hostAllowed(names);
  return async (c, next) => {
    // app.request() without a Host header: the URL's host is what a server would have received.
    if (!allowed(c.req.header('host') ?? new URL(c.req.url).host)) return refuse(c, 421, 'unknown host');
    return next();
  };
}

/**
 * State-changing routes a browser could be tricked into calling: a foreign Origin, a
 * `Sec-Fetch-Site: cross-site` fetch, and any body that is not JSON are refused. Requiring
 * `application/json` matters on its own: a cross-site form or `fetch` with no preflight can
 * only send text/plain, form or multipart bodies. A request without Origin (curl, a script)
 * is not a browser's cross-site request and passes. `requireJson: false` is for routes whose
 * only credential is an Authorization header (the v1 API's tokens): a browser cannot attach one
 * to a cross-site request without a preflight, and those routes check their own body types.
 */
export function browserWriteCheck(names: readonly string[], refuse: Refuse, requireJson = true): MiddlewareHandler {
  const allowed = new Set(names);
  return async (c, next) => {
    const refusal = browserWriteRefusal(c.req.method, (name) => c.req.header(name), c.req.header('host') ?? new URL(c.req.url).host, allowed, requireJson);
    return refusal === null ? next() : refuse(c, refusal.status, refusal.error);
  };
}

/** What a guard answers instead of the route: `{ error }` as JSON with this status. */
export interface GuardRefusal {
  status: 403 | 415;
  error: string;
}

/**
 * The browser checks on a request's method and headers alone (browserWriteCheck is this as
 * Hono middleware; the v1 forwarder, http/v1-forward.ts, calls it on node's request): the
 * refusal, or null when the request passes. `host` is the Host the request was sent to.
 */
export function browserWriteRefusal(method: string, header: (name: string) => string | undefined, host: string, configured: ReadonlySet<string>, requireJson: boolean): GuardRefusal | null {
  if (!STATE_CHANGING.has(method)) return null;
  if (header('sec-fetch-site') === 'cross-site') return { status: 403, error: 'cross-site request' };
  const origin = header('origin');
  if (origin !== undefined && !originAllowed(origin, host, configured)) return { status: 403, error: 'foreign origin' };
  if (!requireJson) return null;
  const type = (header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return { status: 415, error: 'content-type must be application/json' };
  return null;
}

/** Same origin (scheme aside: a TLS proxy may sit in front), or a name the operator configured. */
function originAllowed(origin: string, host: string, configured: ReadonlySet<string>): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null" (sandboxed frames, file: pages)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.host === host.trim().toLowerCase()) return true;
  return configured.has(normalizeName(url.hostname));
}

/**
 * One body cap for a route. A declared Content-Length over the cap is refused before a byte
 * is read; a chunked body is counted while it is read and refused at the first byte past it.
 * `Connection: close` on the refusal stops the server reading the rest of a huge upload.
 */
export function bodyCap(maxBytes: number, refuse: Refuse): MiddlewareHandler {
  const tooLarge = (c: Context) => {
    c.header('connection', 'close');
    return refuse(c, 413, 'body too large');
  };
  const viaFetch = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    // On a real socket the body is read from node's stream into one Buffer (body-buffer.ts);
    // app.request() in tests has no socket and goes through Hono's own limit, the same rules.
    const incoming = c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : freshIncoming(c);
    if (incoming === undefined) return viaFetch(c, next);
    if (declaredOverCap(incoming.headers, maxBytes)) return tooLarge(c);
    const read = await bufferBody(c, incoming, maxBytes);
    if (read.ok) return next();
    if (read.reason === 'too_large') return tooLarge(c);
    c.header('connection', 'close');
    return c.json({ error: 'request body incomplete' }, 400);
  };
}

/** A Content-Length over the cap, on a body that is not chunked: refused before a byte is read (bodyCap, http/v1-forward.ts). */
export function declaredOverCap(headers: IncomingHttpHeaders, maxBytes: number): boolean {
  const declared = headers['content-length'];
  return declared !== undefined && headers['transfer-encoding'] === undefined && Number.parseInt(declared, 10) > maxBytes;
}
