// The queue and history routes answer bad input with a 4xx and a stable code,
// never a 500, and the node's history and throughput samples come out as kept.
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../../helpers/runtime.js';

describe('queue and history routes', () => {
  it('refuse what cannot be done with stable codes', async () => {
    const { app } = await startTestApp();
    const call = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) => {
      const res = await app.inject({ method, url, ...(payload !== undefined ? { payload } : {}) });
      return [res.statusCode, res.statusCode >= 400 ? (res.json() as { error: { code: string } }).error.code : null];
    };
    expect((await app.inject('/api/queue')).json()).toEqual({ maxActive: 1, active: 0, items: [] });
    expect(await call('DELETE', '/api/queue/alpha')).toEqual([404, 'not_queued']);
    expect(await call('POST', '/api/queue/alpha/move', { position: 1 })).toEqual([404, 'not_queued']);
    expect(await call('PUT', '/api/queue', { order: ['alpha'] })).toEqual([409, 'queue_order_mismatch']);
    expect(await call('PUT', '/api/queue', { order: [] })).toEqual([200, null]);
    expect(await call('POST', '/api/queue/alpha/move', { position: 0 })).toEqual([400, 'bad_request']);
    expect(await call('POST', '/api/queue/alpha/move', { position: '1' })).toEqual([400, 'bad_request']);
    expect(await call('POST', '/api/queue/alpha/move', {})).toEqual([400, 'bad_request']);
    expect(await call('PUT', '/api/queue', { order: ['../etc'] })).toEqual([400, 'bad_request']);
    expect(await call('PUT', '/api/queue', { order: 'alpha' })).toEqual([400, 'bad_request']);
    expect(await call('DELETE', '/api/queue/..%2Fetc')).toEqual([400, 'invalid_game_id']);
    expect(await call('PUT', '/api/settings', { maxActiveTransfers: 0 })).toEqual([400, 'bad_request']);
    expect(await call('PUT', '/api/settings', { maxActiveTransfers: 3 })).toEqual([200, null]);
    expect((await app.inject('/api/queue')).json()).toMatchObject({ maxActive: 3 });
  });

  it('serve the history and the throughput samples', async () => {
    const { app, runtime } = await startTestApp();
    const ended = {
      id: 'alpha',
      kind: 'update',
      outcome: 'error',
      bytes: 5,
      durationMs: 7,
      endedAt: '2026-12-01T10:00:00.000Z',
      error: { code: 'no_peers', message: 'gone' },
    } as const;
    await runtime.activity.history.add(ended);
    expect((await app.inject('/api/history')).json()).toEqual([{ seq: 1, ...ended }]);
    const sample = runtime.activity.throughput.sample();
    expect((await app.inject('/api/stats/history')).json()).toEqual({ intervalMs: 1000, samples: [sample] });
  });
});
