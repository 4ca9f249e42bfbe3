// The dashboard's login: it posts the token once to POST /api/session and gets
// back an HttpOnly, SameSite=Strict cookie, so no script on the page can read
// the credential and no other site can make the browser send it. The cookie
// holds a key derived from the token (HMAC), not the token itself, and its name
// carries a tag of the token so two nodes on one host (different ports share a
// cookie jar) do not overwrite each other's. It cannot be `Secure`: the node
// speaks plain HTTP on the LAN (see SECURITY.md).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody } from '../../shared/api.js';
import { ErrorCode } from '../../shared/error-codes.js';
import { LanspreadError } from '../runtime/errors.js';
import type { AuthThrottle } from './auth-throttle.js';

/** How long a browser stays logged in. */
export const SESSION_MAX_AGE_S = 30 * 24 * 3600;

export const SessionRequest = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
export const SessionReply = Type.Object({ authenticated: Type.Boolean(), required: Type.Boolean() });

export class SessionKeys {
  readonly cookieName: string;
  private readonly cookieValue: Buffer;

  constructor(private readonly token: string) {
    const derive = (label: string) => createHmac('sha256', token).update(label).digest('base64url');
    this.cookieName = `lanspread_session_${derive('lanspread cookie name').slice(0, 8)}`;
    this.cookieValue = Buffer.from(derive('lanspread session v1'));
  }

  get value(): string {
    return this.cookieValue.toString();
  }

  tokenMatches(given: string): boolean {
    return constantTimeEqual(Buffer.from(given), Buffer.from(this.token));
  }

  cookieMatches(given: string): boolean {
    return constantTimeEqual(Buffer.from(given), this.cookieValue);
  }
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface SessionRouteOptions {
  keys: SessionKeys | null;
  throttle: AuthThrottle;
}

export function sessionRoutes(opts: SessionRouteOptions) {
  return async (app: FastifyInstance) => {
    app.post(
      '/api/session',
      {
        schema: {
          summary: 'Log in: exchange the access token for an HttpOnly, SameSite=Strict session cookie',
          security: [],
          body: SessionRequest,
          response: { 200: SessionReply, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (request, reply) => {
        const { keys, throttle } = opts;
        if (!keys) return { authenticated: true, required: false };
        const { token } = request.body as { token: string };
        await throttle.beforeAttempt(request.ip);
        if (!keys.tokenMatches(token)) {
          throttle.failed(request.ip);
          throw new LanspreadError(ErrorCode.Unauthorized, 'wrong access token');
        }
        throttle.succeeded(request.ip);
        void reply.setCookie(keys.cookieName, keys.value, {
          httpOnly: true,
          sameSite: 'strict',
          path: '/',
          maxAge: SESSION_MAX_AGE_S,
        });
        return { authenticated: true, required: true };
      },
    );

    app.delete(
      '/api/session',
      {
        schema: {
          summary: 'Log out: forget the session cookie',
          security: [],
          response: { 200: SessionReply, 403: ErrorBody },
        },
      },
      async (_request, reply) => {
        if (opts.keys) void reply.clearCookie(opts.keys.cookieName, { path: '/', httpOnly: true, sameSite: 'strict' });
        return { authenticated: false, required: opts.keys !== null };
      },
    );
  };
}
