// Security headers on every answer (dashboard, API, docs): a Content Security
// Policy that allows only the node's own scripts, styles and connections and
// no framing (clickjacking), plus helmet's other defaults. The node speaks plain
// HTTP on a LAN, so nothing may ask the browser to upgrade to HTTPS: no HSTS and
// no `upgrade-insecure-requests` (both would break every http://192.168.x.y page).
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  // 'self' covers the same-origin WebSocket (ws://host:port/api/events)
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  upgradeInsecureRequests: null,
};

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    strictTransportSecurity: false,
    // the docs page and the dashboard are same-origin only; nothing embeds them
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}
