// One structured line per API call that changes something (who, what, the
// answer), at info; reads at debug, since the dashboard polls them. Refused
// calls (401/403) are at warn: on a node reachable over the network they are
// the trace of someone trying.
import type { FastifyInstance } from 'fastify';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/')) return;
    const status = reply.statusCode;
    const line = { method: request.method, path: path.slice(0, 200), status, ip: request.ip, ms: Math.round(reply.elapsedTime) };
    if (status === 401 || status === 403) request.log.warn(line, 'api call refused');
    else if (!READS.has(request.method)) request.log.info(line, 'api call');
    else request.log.debug(line, 'api call');
  });
}
