// Every code of the registry (shared/error-codes.ts) through the HTTP error
// handler: each leaves with its own code and a 4xx, except the two meant to be
// 5xx. The loop runs over the registry, so a new code is covered by itself.
// Then the bug that showed the drift: an update of an up-to-date game, through
// the real app and a real peer, is a 409 `up_to_date`.
import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ErrorBody } from '../../../shared/api.js';
import { ALL_ERROR_CODES, ErrorCode, type ErrorCode as Code } from '../../../shared/error-codes.js';
import { buildApp } from '../../../server/app.js';
import { registerErrorHandling } from '../../../server/http/errors.js';
import { LanspreadError } from '../../../server/runtime/errors.js';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { startMemoryNode } from '../../helpers/peers.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';

/** The only codes that are the node's fault, not the request's. */
const MEANT_5XX = new Set<Code>([ErrorCode.Internal, ErrorCode.ShuttingDown]);

async function throwingApp() {
  const app = Fastify();
  registerErrorHandling(app);
  app.get<{ Params: { code: string } }>('/throw/:code', async (request) => {
    throw new LanspreadError(request.params.code as Code, `thrown: ${request.params.code}`);
  });
  app.get('/crash', async () => {
    throw new TypeError('a bug');
  });
  onTestFinished(() => app.close());
  return app;
}

describe('error codes through the HTTP error handler', () => {
  it('the registry is not empty and has no duplicates', () => {
    expect(ALL_ERROR_CODES.length).toBeGreaterThan(40);
    expect(new Set(ALL_ERROR_CODES).size).toBe(ALL_ERROR_CODES.length);
  });

  it.each(ALL_ERROR_CODES)('%s leaves with its code and a 4xx unless it is meant to be a 5xx', async (code) => {
    const app = await throwingApp();
    const res = await app.inject(`/throw/${code}`);
    expect(res.json()).toEqual({ error: { code, message: `thrown: ${code}` } } satisfies ErrorBody);
    if (MEANT_5XX.has(code)) expect(res.statusCode).toBeGreaterThanOrEqual(500);
    else expect([res.statusCode >= 400, res.statusCode < 500]).toEqual([true, true]);
  });

  it('a failure that is not a LanspreadError is a 500 internal, without its message', async () => {
    const app = await throwingApp();
    const res = await app.inject('/crash');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: ErrorCode.Internal, message: 'internal error; see the node log' } });
  });
});

describe('update of a game already at the newest version', () => {
  it('answers 409 up_to_date through the real app and starts nothing', async () => {
    const net = new MemoryNetwork();
    const seedDir = await tempDir();
    await makeGame(seedDir, 'alpha', { version: '20240101', files: { 'alpha.eti': 'same bytes' } });
    await startMemoryNode({ net, port: 201, gameDir: seedDir });
    const hereDir = await tempDir();
    await makeGame(hereDir, 'alpha', { version: '20240101', files: { 'alpha.eti': 'same bytes' } });
    const here = await startMemoryNode({ net, port: 202, peers: [201], gameDir: hereDir });
    // the peer announces the same version: it is a source, and there is nothing newer
    await waitFor(() => (here.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'one source');
    const app = await buildApp({ runtime: here.runtime, token: null });
    onTestFinished(() => app.close());

    const res = await app.inject({ method: 'POST', url: '/api/games/alpha/update', payload: {} });
    expect(res.statusCode).toBe(409);
    expect((res.json() as ErrorBody).error.code).toBe(ErrorCode.UpToDate);
    expect(here.runtime.games().find((g) => g.id === 'alpha')).toMatchObject({ operation: null, lastError: null, version: '20240101' });
  });
});
