// Who may talk to the API. On loopback without a token, only requests whose Host
// is a local name are served (DNS rebinding) and state-changing requests from a
// foreign Origin are refused (CSRF from web pages). With a token, every API call
// and the WebSocket must carry it (`Authorization: Bearer`, or `?token=` for the
// WebSocket, which browsers cannot give headers).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../shared/error-codes.js';
import { LanspreadError } from '../runtime/errors.js';

export interface SecurityOptions {
  /** required on every API call when set */
  token: string | null;
}

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  return (hostHeader.split(':')[0] ?? '').toLowerCase();
}

export function isLocalHostname(name: string): boolean {
  return LOCAL_HOSTNAMES.has(name) || name.endsWith('.localhost');
}

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function presentedToken(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === 'string' ? query.token : null;
}

export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  app.addHook('onRequest', async (request) => {
    const host = request.headers.host ?? '';
    if (opts.token === null && !isLocalHostname(hostnameOf(host))) {
      throw new LanspreadError(ErrorCode.ForbiddenHost, `host "${host}" is not a local name; use --token to serve other hosts`);
    }
    const origin = request.headers.origin;
    // The WebSocket upgrade is a GET, but a foreign page must not read the event stream either.
    const guarded = !SAFE_METHODS.has(request.method) || request.url.startsWith('/api/events');
    if (origin !== undefined && guarded) {
      let originHost: string;
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        originHost = '';
      }
      if (originHost !== host.toLowerCase()) {
        throw new LanspreadError(ErrorCode.ForbiddenOrigin, `requests from origin ${origin} are not allowed`);
      }
    }
    if (opts.token !== null && request.url.startsWith('/api')) {
      const given = presentedToken(request);
      if (given === null || !tokenMatches(given, opts.token)) {
        throw new LanspreadError(ErrorCode.Unauthorized, 'a valid access token is required (Authorization: Bearer TOKEN)');
      }
    }
  });
}
