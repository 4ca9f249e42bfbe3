// Builds the Fastify app over a runtime; never listens (tests use app.inject,
// main.ts is the only place that opens a port).
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import { ErrorCode } from '../shared/error-codes.js';
import { LANSPREAD_VERSION } from './runtime/constants.js';
import type { PeerRuntime } from './runtime/runtime.js';
import { registerErrorHandling } from './http/errors.js';
import { eventsRoute } from './http/events-ws.js';
import { gamesRoutes } from './http/routes/games.js';
import { nodeRoutes } from './http/routes/node.js';
import { registerSecurity } from './http/security.js';
import { WEB_DIST } from './paths.js';

export interface AppOptions {
  runtime: PeerRuntime;
  /** required on every API call when set (mandatory when not on loopback) */
  token?: string | null;
  /** the built dashboard; defaults to web/dist */
  webRoot?: string;
  logger?: FastifyServerOptions['loggerInstance'];
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: 64 * 1024,
    // one line per request is noise for a node that the dashboard polls; errors are still logged
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  registerErrorHandling(app);
  registerSecurity(app, { token: opts.token ?? null });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Lanspread node API', version: LANSPREAD_VERSION },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  await app.register(nodeRoutes(opts.runtime));
  await app.register(gamesRoutes(opts.runtime));
  await app.register(eventsRoute(opts.runtime));
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerDashboard(app, opts.webRoot ?? WEB_DIST);
  return app;
}

function registerDashboard(app: FastifyInstance, webRoot: string): void {
  const built = fs.existsSync(path.join(webRoot, 'index.html'));
  if (built) {
    void app.register(fastifyStatic, { root: webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api') || request.method !== 'GET') {
      return reply
        .status(404)
        .send({ error: { code: ErrorCode.NotFound, message: `no route ${request.method} ${request.url.split('?')[0]}` } });
    }
    if (!built) {
      return reply
        .status(503)
        .type('text/plain')
        .send('The Lanspread dashboard is not built. Run "npm run build:web" (npm start does it for you).\n');
    }
    // Client-side routes of the single-page app.
    return reply.sendFile('index.html');
  });
}
