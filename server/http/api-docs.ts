// The OpenAPI document and its docs page, both from the routes' own schemas
// (the same TypeBox definitions validate requests and replies). Every API
// route also documents the answers the security hooks can give (401, 403),
// added here once instead of in each route.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ErrorBody } from '../../shared/api.js';
import { LANSPREAD_VERSION } from '../runtime/constants.js';

const SECURITY_ERRORS = { 401: ErrorBody, 403: ErrorBody } as const;

function addSecurityResponses(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema || schema.hide || !route.url.startsWith('/api/')) return;
  const response = (schema.response ?? {}) as Record<string, unknown>;
  schema.response = { ...SECURITY_ERRORS, 400: ErrorBody, ...response };
}

/** Call before any route is registered: the hook only sees routes added after it. */
export async function registerApiDocs(app: FastifyInstance, opts: { tokenRequired: boolean }): Promise<void> {
  app.addHook('onRoute', addSecurityResponses);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Lanspread node API',
        version: LANSPREAD_VERSION,
        description:
          'REST API of a Lanspread node. Errors are {"error": {"code", "message"}} with a 4xx status. ' +
          (opts.tokenRequired
            ? 'This node requires its access token: "Authorization: Bearer TOKEN", or the session cookie from POST /api/session.'
            : 'This node listens on loopback only and needs no token.'),
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'lanspread_session_…' },
        },
      },
      ...(opts.tokenRequired ? { security: [{ bearer: [] }, { session: [] }] } : {}),
    },
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/**
 * The docs page at /api/docs, served from the package's own files (no network).
 * Swagger UI adds <style> elements at run time, so its pages alone may use inline
 * styles; scripts stay 'self' only.
 */
export async function registerDocsPage(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (request, reply) => {
    if (!request.url.startsWith('/api/docs')) return;
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string')
      reply.header('content-security-policy', csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"));
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { validatorUrl: null, deepLinking: false },
    // the global policy (headers.ts) already covers the page; keep it as is
    staticCSP: false,
  });
}
