import { describe, expect, it } from 'vitest';
import { DeadlineTimer } from '../../../server/runtime/transport/deadline-timer.js';
import { sleep } from './helpers.js';

describe('deadline timer', () => {
  it('moves to an earlier deadline', async () => {
    const fired: number[] = [];
    const t0 = performance.now();
    const timer = new DeadlineTimer(() => fired.push(performance.now() - t0));
    timer.arm(300);
    timer.arm(20);
    await sleep(120);
    expect(fired.length).toBe(1);
    expect(fired[0]).toBeLessThan(110);
    await sleep(250);
    expect(fired.length).toBe(1);
  });

  it('keeps the earlier deadline when a later one is asked for', async () => {
    let fired = 0;
    const timer = new DeadlineTimer(() => fired++);
    timer.arm(20);
    timer.arm(500);
    await sleep(120);
    expect(fired).toBe(1);
  });

  it('can be cleared', async () => {
    let fired = 0;
    const timer = new DeadlineTimer(() => fired++);
    timer.arm(20);
    timer.clear();
    await sleep(80);
    expect(fired).toBe(0);
  });
});
