import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../server/runtime/event-loop.js';

describe('event-loop monitor', () => {
  it('reports a loop held up by synchronous work, and little when it is not', async () => {
    const monitor = new EventLoopMonitor();
    monitor.start();
    await sleep(200);
    const quiet = monitor.snapshot();
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // hold the loop
    }
    await sleep(50);
    const busy = monitor.snapshot();
    monitor.stop();
    expect(quiet.p50Ms).toBeLessThan(8); // the 10 ms sampling interval itself is not delay
    expect(quiet.maxMs).toBeLessThan(100);
    expect(busy.maxMs).toBeGreaterThanOrEqual(120);
    expect(busy.p50Ms).toBeLessThanOrEqual(busy.p99Ms);
    expect(busy.p99Ms).toBeLessThanOrEqual(busy.maxMs);
  });
});
