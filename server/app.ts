// Builds the Fastify app over a runtime; never listens (tests use app.inject,
// main.ts is the only place that opens a port).
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import { ErrorCode } from '../shared/error-codes.js';
import type { PeerRuntime } from './runtime/runtime.js';
import { registerApiDocs, registerDocsPage } from './http/api-docs.js';
import { AuthThrottle } from './http/auth-throttle.js';
import { registerErrorHandling } from './http/errors.js';
import { eventsRoute } from './http/events-ws.js';
import { registerSecurityHeaders } from './http/headers.js';
import { registerRequestLog } from './http/request-log.js';
import { gamesRoutes } from './http/routes/games.js';
import { historyRoutes } from './http/routes/history.js';
import { nodeRoutes } from './http/routes/node.js';
import { queueRoutes } from './http/routes/queue.js';
import { registerSecurity } from './http/security.js';
import { SessionKeys, sessionRoutes } from './http/session.js';
import { WEB_DIST } from './paths.js';

export interface AppOptions {
  runtime: PeerRuntime;
  /** required on every API call when set (mandatory when not on loopback) */
  token?: string | null;
  /** host names served without a token besides local names and IP literals (--allow-host) */
  allowedHosts?: readonly string[];
  /** slows wrong tokens per client address; injectable so tests control its clock */
  throttle?: AuthThrottle;
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
    // a URL the router cannot even decode (e.g. "%ff") is bad input like any other
    frameworkErrors: (err, _request, reply) => {
      void (reply as FastifyReply)
        .status(400)
        .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
        .send({ error: { code: ErrorCode.BadRequest, message: err.message } });
    },
  });
  registerErrorHandling(app);
  const keys = opts.token ? new SessionKeys(opts.token) : null;
  const throttle = opts.throttle ?? new AuthThrottle();
  await app.register(fastifyCookie);
  await registerSecurityHeaders(app);
  registerSecurity(app, { keys, throttle, allowedHosts: (opts.allowedHosts ?? []).map((h) => h.toLowerCase()) });
  registerRequestLog(app);

  await registerApiDocs(app, { tokenRequired: keys !== null });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  await app.register(sessionRoutes({ keys, throttle }));
  await app.register(nodeRoutes(opts.runtime));
  await app.register(gamesRoutes(opts.runtime));
  await app.register(queueRoutes(opts.runtime));
  await app.register(historyRoutes(opts.runtime));
  await app.register(eventsRoute(opts.runtime));
  await registerDocsPage(app);

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
