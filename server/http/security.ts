// Who may talk to the node, checked on every request before any route runs:
//
// 1. Host (DNS rebinding, as in Transmission's CVE-2018-5702): without a token,
//    only local names (localhost, *.localhost), IP literals and the names given
//    with --allow-host are served. A rebinding page always sends its own name,
//    never an IP literal. With a token any name is served: the attacker's page
//    has neither the token nor the cookie, which the browser keeps per host.
// 2. Origin (CSRF): a state-changing request, and the event stream, from a page
//    whose origin is not the node's own is refused, as is one a browser marks
//    as cross-site (Sec-Fetch-Site).
// 3. Token: when the node has one, every /api call and the WebSocket need it, as
//    `Authorization: Bearer TOKEN` or the dashboard's session cookie. A wrong
//    token slows that client address down (auth-throttle.ts), nobody else.
//    POST /api/session, the login, is the only /api route open without it.
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../shared/error-codes.js';
import { LanspreadError } from '../runtime/errors.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { SessionKeys } from './session.js';

export interface SecurityOptions {
  /** required on every API call when set */
  keys: SessionKeys | null;
  /** extra host names served without a token (--allow-host), lower case */
  allowedHosts: readonly string[];
  throttle: AuthThrottle;
}

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const OPEN_API_ROUTES = new Set(['POST /api/session']);

export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  return (hostHeader.split(':')[0] ?? '').toLowerCase();
}

export function isLocalHostname(name: string): boolean {
  return LOCAL_HOSTNAMES.has(name) || name.endsWith('.localhost');
}

function isIpLiteral(name: string): boolean {
  return isIP(name.startsWith('[') ? name.slice(1, -1) : name) !== 0;
}

/** Whether a request naming `hostHeader` may be served by a node without a token. */
export function isAllowedHost(hostHeader: string, allowedHosts: readonly string[]): boolean {
  const name = hostnameOf(hostHeader);
  if (name === '') return false;
  return isLocalHostname(name) || isIpLiteral(name) || allowedHosts.includes(name.replace(/\.$/, ''));
}

function bearerToken(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  if (auth === undefined || !/^bearer /i.test(auth)) return null;
  return auth.slice(7).trim();
}

function isForeignOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return true; // "null" and anything else that is not an origin of ours
  }
  return originHost !== (request.headers.host ?? '').toLowerCase();
}

export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  const { keys, throttle } = opts;
  app.addHook('onRequest', async (request) => {
    const host = request.headers.host ?? '';
    if (keys === null && !isAllowedHost(host, opts.allowedHosts)) {
      throw new LanspreadError(
        ErrorCode.ForbiddenHost,
        `host "${host.slice(0, 100)}" is not a local name; add it with --allow-host, or use --token to serve other hosts`,
      );
    }
    const path = request.url.split('?')[0] ?? '';
    // The WebSocket upgrade is a GET, but a foreign page must not read the event stream either.
    const guarded = !SAFE_METHODS.has(request.method) || path === '/api/events';
    if (guarded && isForeignOrigin(request)) {
      throw new LanspreadError(
        ErrorCode.ForbiddenOrigin,
        `requests from origin ${String(request.headers.origin).slice(0, 100)} are not allowed`,
      );
    }
    if (keys === null || !(path === '/api' || path.startsWith('/api/')) || OPEN_API_ROUTES.has(`${request.method} ${path}`)) return;

    const bearer = bearerToken(request);
    const cookie = request.cookies[keys.cookieName];
    if (bearer === null && cookie === undefined) {
      throw new LanspreadError(ErrorCode.Unauthorized, 'a valid access token is required (Authorization: Bearer TOKEN)');
    }
    await throttle.beforeAttempt(request.ip);
    const valid = bearer !== null ? keys.tokenMatches(bearer) : keys.cookieMatches(cookie as string);
    if (!valid) {
      throttle.failed(request.ip);
      request.log.warn({ ip: request.ip, via: bearer !== null ? 'bearer' : 'cookie' }, 'wrong access token');
      throw new LanspreadError(ErrorCode.Unauthorized, 'a valid access token is required (Authorization: Bearer TOKEN)');
    }
    throttle.succeeded(request.ip);
  });
}
