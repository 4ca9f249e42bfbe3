import { describe, expect, it } from 'vitest';
import { AuthThrottle, clientKey } from '../../../server/http/auth-throttle.js';

function throttle(opts: { maxTracked?: number } = {}) {
  const clock = { now: 0 };
  const waits: number[] = [];
  const t = new AuthThrottle({
    now: () => clock.now,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...opts,
  });
  return { t, clock, waits };
}

describe('AuthThrottle', () => {
  it('grows the wait with each failure, caps it, and forgives failures over quiet time', () => {
    const { t, clock } = throttle();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(t.delayFor('10.0.0.1'));
      t.failed('10.0.0.1');
    }
    expect(delays).toEqual([0, 250, 500, 1000, 2000, 4000, 4000, 4000]);
    expect(t.delayFor('10.0.0.2')).toBe(0);
    clock.now += 10_000 * 6; // 6 of 8 failures forgiven
    expect(t.delayFor('10.0.0.1')).toBe(500);
    clock.now += 10_000 * 5;
    expect(t.delayFor('10.0.0.1')).toBe(0);
  });

  it('queues parallel attempts from one address one after the other', async () => {
    const { t, waits } = throttle();
    t.failed('10.0.0.1');
    t.failed('10.0.0.1'); // next wait 500
    await Promise.all([t.beforeAttempt('10.0.0.1'), t.beforeAttempt('10.0.0.1'), t.beforeAttempt('10.0.0.1')]);
    expect(waits).toEqual([500, 1000, 1500]);
  });

  it('remembers a bounded number of addresses, forgetting the least recently failed', () => {
    const { t } = throttle({ maxTracked: 3 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) t.failed(a);
    t.failed('10.0.0.1'); // now the most recent
    t.failed('10.0.0.4');
    expect(t.size).toBe(3);
    expect(t.delayFor('10.0.0.2')).toBe(0); // forgotten
    expect(t.delayFor('10.0.0.1')).toBe(500);
    expect(t.delayFor('10.0.0.4')).toBe(250);
  });

  it('counts an IPv6 /64 as one client, and a v4-mapped address as its IPv4', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:db8:1:2:ffff:1:2:3'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    const { t } = throttle();
    t.failed('2001:db8:1:2::1');
    expect(t.delayFor('2001:db8:1:2::99')).toBe(250);
  });
});
