// Browser attacks and the token, with plain HTTP requests (app.inject): DNS
// rebinding (Host), CSRF (Origin / Sec-Fetch-Site), the token and the session
// cookie, the slowing of wrong tokens per address, and the security headers.
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../../server/app.js';
import { AuthThrottle } from '../../../server/http/auth-throttle.js';
import { startTestRuntime } from '../../helpers/runtime.js';

const TOKEN = 'a-long-enough-test-token';

async function appWith(opts: { token?: string; allowedHosts?: string[]; throttle?: AuthThrottle } = {}) {
  const { runtime } = await startTestRuntime();
  const app = await buildApp({ runtime, token: opts.token ?? null, allowedHosts: opts.allowedHosts ?? [], ...opts });
  onTestFinished(() => app.close());
  return app;
}

/** A throttle whose waits are recorded instead of slept, on a clock the test moves. */
function recordingThrottle() {
  const clock = { now: 1_000_000 };
  const waits: number[] = [];
  const throttle = new AuthThrottle({
    now: () => clock.now,
    sleep: async (ms) => {
      waits.push(ms);
      clock.now += ms;
    },
  });
  return { throttle, clock, waits };
}

describe('Host check (DNS rebinding)', () => {
  it('refuses a Host that is not a local name, an IP literal or a configured name', async () => {
    const app = await appWith({ allowedHosts: ['seed.lan'] });
    for (const host of ['attacker.example:7420', 'attacker.example', 'seed.lan.attacker.example', 'localhost.attacker.example']) {
      const res = await app.inject({ url: '/api/health', headers: { host } });
      expect(res.statusCode, host).toBe(403);
      expect(res.json().error.code).toBe('forbidden_host');
    }
    // the dashboard itself too, not only the API
    expect((await app.inject({ url: '/', headers: { host: 'attacker.example' } })).statusCode).toBe(403);
    for (const host of [
      'localhost:7420',
      '127.0.0.1:7420',
      '[::1]:7420',
      'app.localhost',
      '192.168.1.10:7420',
      'seed.lan:7420',
      'SEED.LAN',
    ]) {
      expect((await app.inject({ url: '/api/health', headers: { host } })).statusCode, host).toBe(200);
    }
  });

  it('with a token, any name is served (the token defeats rebinding), but only with the token', async () => {
    const app = await appWith({ token: TOKEN });
    const host = 'seed.example:7420';
    expect((await app.inject({ url: '/api/health', headers: { host } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/health', headers: { host, authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
  });
});

describe('Origin check (CSRF)', () => {
  it('refuses state-changing requests and the event stream from a foreign Origin', async () => {
    const app = await appWith();
    const foreign = await app.inject({
      method: 'PUT',
      url: '/api/settings',
      headers: { host: 'localhost:7420', origin: 'http://evil.example' },
      payload: { name: 'pwned' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('forbidden_origin');
    expect((await app.inject('/api/settings')).json().name).toBe('test-node');
    for (const origin of ['null', 'http://localhost:7421', 'not a url']) {
      const res = await app.inject({ method: 'POST', url: '/api/games/alpha/install', headers: { host: 'localhost:7420', origin } });
      expect(res.statusCode, origin).toBe(403);
    }
    const events = await app.inject({ url: '/api/events', headers: { host: 'localhost:7420', origin: 'http://evil.example' } });
    expect(events.statusCode).toBe(403);
    const same = await app.inject({
      method: 'PUT',
      url: '/api/settings',
      headers: { host: 'localhost:7420', origin: 'http://localhost:7420' },
      payload: { name: 'ok' },
    });
    expect(same.statusCode).toBe(200);
    // reads are not guarded: a foreign page cannot read the answer anyway (no CORS)
    expect((await app.inject({ url: '/api/health', headers: { host: 'localhost:7420', origin: 'http://evil.example' } })).statusCode).toBe(
      200,
    );
  });

  it('refuses a state-changing request the browser marks as cross-site, even without an Origin', async () => {
    const app = await appWith();
    for (const site of ['cross-site', 'same-site']) {
      const res = await app.inject({
        method: 'PUT',
        url: '/api/settings',
        headers: { host: 'localhost:7420', 'sec-fetch-site': site },
        payload: { name: 'pwned' },
      });
      expect(res.statusCode, site).toBe(403);
    }
    const own = await app.inject({
      method: 'PUT',
      url: '/api/settings',
      headers: { host: 'localhost:7420', 'sec-fetch-site': 'same-origin' },
      payload: { name: 'mine' },
    });
    expect(own.statusCode).toBe(200);
    expect((await app.inject('/api/settings')).json().name).toBe('mine');
  });
});

describe('token', () => {
  it('every API call and the event stream need it, as a Bearer header; not in the query', async () => {
    const app = await appWith({ token: TOKEN, throttle: recordingThrottle().throttle });
    const host = '192.168.1.10:7420';
    const none = await app.inject({ url: '/api/games', headers: { host } });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    const wrong = await app.inject({ url: '/api/games', headers: { host, authorization: 'Bearer wrong-token-wrong-token' } });
    expect(wrong.statusCode).toBe(401);
    expect((await app.inject({ url: '/api/games', headers: { host, authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: `/api/health?token=${TOKEN}`, headers: { host } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/events', headers: { host } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/openapi.json', headers: { host } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/docs', headers: { host } })).statusCode).toBe(401);
    const write = await app.inject({ method: 'PUT', url: '/api/settings', headers: { host }, payload: { name: 'pwned' } });
    expect(write.statusCode).toBe(401);
  });

  it('POST /api/session exchanges it for an HttpOnly, SameSite=Strict cookie that then works alone', async () => {
    const app = await appWith({ token: TOKEN, throttle: recordingThrottle().throttle });
    const host = '192.168.1.10:7420';
    const bad = await app.inject({ method: 'POST', url: '/api/session', headers: { host }, payload: { token: 'wrong' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();

    const login = await app.inject({ method: 'POST', url: '/api/session', headers: { host }, payload: { token: TOKEN } });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toEqual({ authenticated: true, required: true });
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^lanspread_session_[\w-]+=[\w-]+;/);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; SameSite=Strict/i);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toContain(TOKEN); // a derived key, not the token itself
    const cookie = setCookie.split(';')[0]!;

    expect((await app.inject({ url: '/api/games', headers: { host, cookie } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/events', headers: { host, cookie, origin: `http://${host}` } })).statusCode).not.toBe(401);
    const [name] = cookie.split('=');
    const forged = await app.inject({ url: '/api/games', headers: { host, cookie: `${name}=forged-value` } });
    expect(forged.statusCode).toBe(401);

    const logout = await app.inject({ method: 'DELETE', url: '/api/session', headers: { host, cookie } });
    expect(logout.statusCode).toBe(200);
    expect(String(logout.headers['set-cookie'])).toMatch(new RegExp(`^${name}=;`));
  });

  it('a login from a foreign page is refused (login CSRF)', async () => {
    const app = await appWith({ token: TOKEN });
    const res = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { host: '192.168.1.10:7420', origin: 'http://evil.example' },
      payload: { token: TOKEN },
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('slowing wrong tokens', () => {
  it("one address's failures slow that address, not another, and a success clears them", async () => {
    const { throttle, waits } = recordingThrottle();
    const app = await appWith({ token: TOKEN, throttle });
    const attempt = (remoteAddress: string, token: string) =>
      app.inject({ url: '/api/health', remoteAddress, headers: { host: '192.168.1.10', authorization: `Bearer ${token}` } });

    for (let i = 0; i < 4; i++) expect((await attempt('10.0.0.66', 'wrong-token-number-x')).statusCode).toBe(401);
    // the first guess was free, then each waited longer than the one before
    expect(waits).toEqual([250, 500, 1000]);
    expect(throttle.delayFor('10.0.0.66')).toBe(2000);

    // someone else is not slowed at all
    expect((await attempt('10.0.0.7', TOKEN)).statusCode).toBe(200);
    expect(waits).toHaveLength(3);

    // the right token from the slowed address still works (after its wait), and clears the record
    expect((await attempt('10.0.0.66', TOKEN)).statusCode).toBe(200);
    expect(waits).toHaveLength(4);
    expect(throttle.delayFor('10.0.0.66')).toBe(0);
    expect((await attempt('10.0.0.66', TOKEN)).statusCode).toBe(200);
    expect(waits).toHaveLength(4);
  });

  it('wrong tokens at the login and in cookies count too', async () => {
    const { throttle } = recordingThrottle();
    const app = await appWith({ token: TOKEN, throttle });
    await app.inject({ method: 'POST', url: '/api/session', remoteAddress: '10.0.0.8', payload: { token: 'nope' } });
    await app.inject({ url: '/api/games', remoteAddress: '10.0.0.8', headers: { cookie: 'lanspread_session_x=1' } });
    // a cookie of another node's name is not a guess at ours
    expect(throttle.delayFor('10.0.0.8')).toBe(250);
  });
});

describe('security headers', () => {
  it('every answer carries a CSP without framing and without forcing HTTPS', async () => {
    const app = await appWith();
    for (const url of ['/', '/api/health', '/api/nowhere', '/api/docs']) {
      const res = await app.inject({ url });
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
    // refusals too
    const refused = await app.inject({ url: '/api/health', headers: { host: 'attacker.example' } });
    expect(String(refused.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });
});
