// Random requests against every route of the OpenAPI document (and some that
// are not there): random methods, paths, ids, headers and bodies. Whatever
// comes in, the answer is never a 5xx, a 4xx always has the error shape, and
// the node still answers afterwards.
import fs from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../../server/app.js';
import { AuthThrottle } from '../../../server/http/auth-throttle.js';
import { startTestRuntime } from '../../helpers/runtime.js';
import { tempDir } from '../../helpers/temp-dir.js';

const TOKEN = 'a-long-enough-test-token';
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

async function fuzzApp(token: string | null) {
  const { runtime } = await startTestRuntime();
  const webRoot = await tempDir();
  await fs.writeFile(path.join(webRoot, 'index.html'), '<!doctype html><div id="app"></div>');
  // no waiting between wrong tokens, or the fuzz would mostly sleep
  const throttle = new AuthThrottle({ sleep: async () => undefined });
  const app = await buildApp({ runtime, token, webRoot, throttle });
  onTestFinished(() => app.close());
  return app;
}

/** Every documented route as [METHOD, path template]. */
async function documentedRoutes(app: FastifyInstance, headers: Record<string, string>): Promise<[string, string][]> {
  const doc = (await app.inject({ url: '/api/openapi.json', headers })).json() as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m): [string, string] => [m.toUpperCase(), p]));
}

const gameIds = fc.oneof(
  fc.constantFrom('alpha', 'bravo', 'charlie', 'zulu', '..', '.', '%2e%2e%2fetc', 'ALPHA', '', 'a'.repeat(65), '%00', '%ff', '%', '😀'),
  fc.string({ maxLength: 80 }).map(encodeURIComponent),
  fc.stringMatching(/^[a-z0-9_-]{1,64}$/),
);

const jsonBodies = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      stream: fc.jsonValue({ maxDepth: 1 }),
      install: fc.jsonValue({ maxDepth: 1 }),
      token: fc.jsonValue({ maxDepth: 1 }),
      name: fc.oneof(fc.string({ maxLength: 100 }), fc.jsonValue({ maxDepth: 1 })),
      // never a real absolute path: a fuzzed game dir of "/" would rescan the machine
      gameDir: fc.oneof(
        fc.string({ maxLength: 40 }).map((s) => `x${s}`),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      uploadLimit: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 })),
      downloadLimit: fc.oneof(fc.integer(), fc.double(), fc.constant(null)),
    },
    { requiredKeys: [] },
  ),
);

/** Bodies a route accepts, so the handlers behind validation run too. */
const plausibleBodies = fc.oneof(
  fc.record(
    {
      name: fc.string({ minLength: 1, maxLength: 64 }),
      uploadLimit: fc.nat(),
      downloadLimit: fc.nat(),
      gameDir: fc.constantFrom('relative/dir', '/nonexistent-lanspread-dir'),
    },
    { requiredKeys: [] },
  ),
  fc.record({ stream: fc.boolean(), install: fc.boolean() }, { requiredKeys: [] }),
  fc.record({ token: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constant(TOKEN)) }),
);

const payloads = fc.oneof(
  fc.constant(undefined),
  { weight: 8, arbitrary: plausibleBodies.map((v) => ({ type: 'application/json', body: JSON.stringify(v) })) },
  jsonBodies.map((v) => ({ type: 'application/json', body: JSON.stringify(v) })),
  fc.string({ maxLength: 200 }).map((s) => ({ type: 'application/json', body: s })),
  fc.string({ maxLength: 200 }).map((s) => ({ type: 'text/plain', body: s })),
  fc.string({ maxLength: 200 }).map((s) => ({ type: 'application/x-www-form-urlencoded', body: s })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ type: 'application/octet-stream', body: Buffer.from(b) })),
  fc
    .constantFrom('application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'garbage', '', 'application/json;;')
    .map((type) => ({
      type,
      body: '{"stream": true}',
    })),
  fc.constant({ type: 'application/json', body: '{"a":'.repeat(5_000) }),
  fc.constant({ type: 'application/json', body: `"${'x'.repeat(70 * 1024)}"` }), // over the body limit
);

const headerValue = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
const hostileHeaders = fc.record(
  {
    authorization: fc.oneof(
      headerValue,
      fc.constant(`Bearer ${TOKEN}`),
      headerValue.map((s) => `Bearer ${s}`),
    ),
    cookie: fc.oneof(
      headerValue,
      headerValue.map((s) => `lanspread_session_x=${s}`),
    ),
    origin: fc.oneof(headerValue, fc.constantFrom('null', 'http://localhost:80', 'http://evil.example')),
    'sec-fetch-site': fc.constantFrom('same-origin', 'cross-site', 'none', 'bogus'),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ''),
    'x-forwarded-for': headerValue,
    range: fc.constantFrom('bytes=0-1', 'bytes=-1', 'bytes=x', 'bytes=99999999-'),
    'if-none-match': headerValue,
  },
  { requiredKeys: [] },
);

// half the requests carry only the base headers, so calls also get past the Origin check to the handlers
const extraHeaders = fc.oneof(fc.constant({}), hostileHeaders);

function requests(routes: [string, string][]) {
  const paths = [...new Set(routes.map(([, p]) => p))];
  const tails = fc.constantFrom('', '', '', '?x=1', '?token=1&token=2', '?stream=true', '#frag', '/extra');
  // a documented route with its own method, most of the time, so the handlers run
  const route = fc
    .tuple(fc.constantFrom(...routes), gameIds, tails)
    .map(([[method, p], id, tail]) => ({ method, url: p.replace('{id}', id) + tail }));
  const apiPath = fc.tuple(fc.constantFrom(...paths), gameIds, tails).map(([p, id, tail]) => p.replace('{id}', id) + tail);
  const oddPath = fc.oneof(
    fc.constantFrom(
      '/api',
      '/api/',
      '/api//games',
      '/api/games/',
      '/api/games//download',
      '/api/docs/static/../../package.json',
      '/api/../api/health',
    ),
    fc.array(fc.string({ maxLength: 12 }).map(encodeURIComponent), { maxLength: 4 }).map((parts) => `/api/${parts.join('/')}`),
  );
  const anyMethod = fc.record({
    method: fc.constantFrom(...METHODS),
    url: fc.oneof({ weight: 3, arbitrary: apiPath }, { weight: 1, arbitrary: oddPath }),
  });
  return fc
    .record({
      target: fc.oneof({ weight: 3, arbitrary: route }, { weight: 1, arbitrary: anyMethod }),
      payload: payloads,
      headers: extraHeaders,
    })
    .map(({ target, payload, headers }) => ({ ...target, payload, headers }));
}

async function checkAnswers(app: FastifyInstance, host: string, baseHeaders: Record<string, string>, runs: number) {
  const routes = await documentedRoutes(app, baseHeaders);
  const seen = new Set<number>();
  expect(routes).toEqual(
    expect.arrayContaining([
      ['GET', '/api/health'],
      ['POST', '/api/games/{id}/download'],
      ['PUT', '/api/settings'],
      ['POST', '/api/session'],
    ]),
  );
  await fc.assert(
    fc.asyncProperty(requests(routes), async (req) => {
      const headers: Record<string, string> = { host, ...baseHeaders, ...req.headers };
      if (req.payload) headers['content-type'] = req.payload.type;
      const res = await app.inject({
        method: req.method as (typeof METHODS)[number],
        url: req.url,
        headers,
        ...(req.payload && req.method !== 'GET' && req.method !== 'HEAD' ? { payload: req.payload.body } : {}),
      });
      seen.add(res.statusCode);
      expect(res.statusCode, `${req.method} ${req.url} -> ${res.body.slice(0, 200)}`).toBeLessThan(500);
      if (res.statusCode >= 400 && req.method !== 'HEAD') {
        const body = res.json() as { error?: { code?: unknown; message?: unknown } };
        expect(typeof body.error?.code, `${req.method} ${req.url}`).toBe('string');
        expect(typeof body.error?.message).toBe('string');
      }
    }),
    { numRuns: runs },
  );
  // the requests got past the checks to the routes, not only to refusals
  expect([...seen]).toEqual(expect.arrayContaining([200, 400, 404]));
  const health = await app.inject({ url: '/api/health', headers: { host, ...baseHeaders } });
  expect(health.statusCode).toBe(200);
}

describe('API fuzz', () => {
  it('a node without a token: no 5xx, errors in shape, still serving', async () => {
    const app = await fuzzApp(null);
    await checkAnswers(app, 'localhost:7420', {}, 1500);
  }, 60_000);

  it('a node with a token: the same, with random credentials', async () => {
    const app = await fuzzApp(TOKEN);
    await checkAnswers(app, '192.168.1.10:7420', { authorization: `Bearer ${TOKEN}` }, 1500);
  }, 60_000);
});
