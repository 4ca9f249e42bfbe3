import { describe, expect, it } from 'vitest';
import { startTestApp } from '../../helpers/runtime.js';

const TOKEN = 'a-long-enough-test-token';

describe('API security', () => {
  it('refuses a Host that is not a local name (DNS rebinding)', async () => {
    const { app } = await startTestApp();
    const res = await app.inject({ url: '/api/health', headers: { host: 'attacker.example:7420' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden_host');
    for (const host of ['localhost:7420', '127.0.0.1:7420', '[::1]:7420']) {
      expect((await app.inject({ url: '/api/health', headers: { host } })).statusCode).toBe(200);
    }
  });

  it('refuses state-changing requests and the event stream from a foreign Origin', async () => {
    const { app } = await startTestApp();
    const foreign = await app.inject({
      method: 'PUT',
      url: '/api/settings',
      headers: { host: 'localhost:7420', origin: 'http://evil.example' },
      payload: { name: 'pwned' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('forbidden_origin');
    expect((await app.inject('/api/settings')).json().name).toBe('test-node');
    const events = await app.inject({ url: '/api/events', headers: { host: 'localhost:7420', origin: 'http://evil.example' } });
    expect(events.statusCode).toBe(403);
    const same = await app.inject({
      method: 'PUT',
      url: '/api/settings',
      headers: { host: 'localhost:7420', origin: 'http://localhost:7420' },
      payload: { name: 'ok' },
    });
    expect(same.statusCode).toBe(200);
    // A foreign page may still read nothing but it can GET; reads are fine, only writes are guarded.
    expect((await app.inject({ url: '/api/health', headers: { host: 'localhost:7420', origin: 'http://evil.example' } })).statusCode).toBe(
      200,
    );
  });

  it('with a token, every API call needs it (header or ?token=), from any host', async () => {
    const { app } = await startTestApp({ token: TOKEN });
    const none = await app.inject({ url: '/api/games', headers: { host: '192.168.1.10:7420' } });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    const wrong = await app.inject({
      url: '/api/games',
      headers: { host: '192.168.1.10:7420', authorization: 'Bearer wrong-token-wrong-token' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await app.inject({ url: '/api/games', headers: { host: '192.168.1.10:7420', authorization: `Bearer ${TOKEN}` } });
    expect(right.statusCode).toBe(200);
    const query = await app.inject({ url: `/api/health?token=${TOKEN}`, headers: { host: '192.168.1.10:7420' } });
    expect(query.statusCode).toBe(200);
  });
});
