// The OpenAPI document comes from the same schemas that validate requests and
// replies: every route in it has them, and the docs page serves from the package.
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../../helpers/runtime.js';

type Operation = {
  summary?: string;
  requestBody?: { content: Record<string, { schema: unknown }> };
  parameters?: { in: string; name: string; schema: unknown }[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  security?: unknown[];
};

describe('API schemas and docs', () => {
  it('documents every route with its reply schemas, its body and path parameters, and the error answers', async () => {
    const { app } = await startTestApp();
    const doc = (await app.inject('/api/openapi.json')).json() as { paths: Record<string, Record<string, Operation>> };
    const routes = Object.entries(doc.paths).flatMap(([p, methods]) =>
      Object.entries(methods).map(([m, op]) => [`${m.toUpperCase()} ${p}`, op] as const),
    );
    expect(routes.map(([r]) => r).sort()).toEqual(
      [
        'DELETE /api/games/{id}/files',
        'DELETE /api/session',
        'DELETE /api/queue/{id}',
        'GET /api/games',
        'GET /api/games/{id}',
        'GET /api/history',
        'GET /api/queue',
        'GET /api/stats/history',
        'GET /api/health',
        'GET /api/operations',
        'GET /api/peers',
        'GET /api/settings',
        'GET /api/stats',
        'POST /api/games/{id}/cancel',
        'POST /api/games/{id}/download',
        'POST /api/games/{id}/install',
        'POST /api/games/{id}/uninstall',
        'POST /api/games/{id}/update',
        'POST /api/queue/{id}/move',
        'POST /api/session',
        'PUT /api/queue',
        'PUT /api/settings',
      ].sort(),
    );
    for (const [route, op] of routes) {
      expect(op.summary, route).toBeTruthy();
      const ok = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(ok, route).toHaveLength(1);
      expect(op.responses[ok[0]!]!.content?.['application/json']?.schema, route).toBeDefined();
      for (const status of ['400', '401', '403']) {
        const schema = op.responses[status]?.content?.['application/json']?.schema as { properties?: Record<string, unknown> } | undefined;
        expect(schema?.properties?.error, `${route} ${status}`).toBeDefined();
      }
      if (route.includes('{id}'))
        expect(
          op.parameters?.map((p) => `${p.in}:${p.name}`),
          route,
        ).toEqual(['path:id']);
    }
    const body = (route: string) => routes.find(([r]) => r === route)![1].requestBody?.content['application/json']?.schema;
    expect(body('PUT /api/settings')).toMatchObject({ additionalProperties: false, properties: { uploadLimit: { type: 'integer' } } });
    expect(body('POST /api/games/{id}/download')).toMatchObject({ properties: { stream: { type: 'boolean' } } });
    expect(body('POST /api/session')).toMatchObject({ required: ['token'] });
    expect(body('PUT /api/queue')).toMatchObject({ additionalProperties: false, required: ['order'] });
    expect(body('POST /api/queue/{id}/move')).toMatchObject({ properties: { position: { type: 'integer', minimum: 1 } } });
  });

  it('says the token is needed when it is, except for the login', async () => {
    const { app } = await startTestApp({ token: 'a-long-enough-test-token' });
    const doc = (await app.inject({ url: '/api/openapi.json', headers: { authorization: 'Bearer a-long-enough-test-token' } })).json() as {
      security?: unknown[];
      paths: Record<string, Record<string, Operation>>;
    };
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }]);
    expect(doc.paths['/api/session']!.post!.security).toEqual([]);
    const open = (await startTestApp()).app;
    expect(((await open.inject('/api/openapi.json')).json() as { security?: unknown }).security).toBeUndefined();
  });

  it('serves the docs page and its assets from the package, under a CSP', async () => {
    const { app } = await startTestApp();
    const page = await app.inject('/api/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const init = await app.inject('/api/docs/static/swagger-initializer.js');
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('SwaggerUIBundle');
    const json = await app.inject('/api/docs/json');
    expect(json.json().paths['/api/health']).toBeDefined();
  });

  it('replies go out through their schema: a field it does not name does not leak', async () => {
    const { app, runtime } = await startTestApp();
    (runtime as unknown as { settings: () => unknown }).settings = () => ({
      gameDir: '/x',
      name: 'n',
      uploadLimit: 0,
      downloadLimit: 0,
      maxActiveTransfers: 1,
      freeBytes: null,
      secret: 's',
    });
    const res = await app.inject('/api/settings');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ gameDir: '/x', name: 'n', uploadLimit: 0, downloadLimit: 0, maxActiveTransfers: 1, freeBytes: null });
  });
});
