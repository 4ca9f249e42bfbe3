// Throughput samples: rates of growing byte counters over each interval, a
// bounded window, and install disk writes counted from operations' progress.
import { describe, expect, it } from 'vitest';
import type { ActiveOperation } from '../../shared/api.js';
import { InstallWrites, ThroughputSampler } from '../../server/runtime/throughput.js';

describe('ThroughputSampler', () => {
  it('turns counters into bytes per second, keeps the newest samples, and tells each one', () => {
    let now = 10_000;
    const counters = { down: 0, up: 0, disk: 0 };
    const told: number[] = [];
    const sampler = new ThroughputSampler({ read: () => ({ ...counters }), keep: 3, now: () => now, onSample: (s) => told.push(s.down) });
    sampler.start();
    sampler.stop();
    for (const [down, up, disk] of [
      [1000, 0, 0],
      [3000, 500, 0],
      [3000, 500, 4000],
      [2000, 600, 4000], // a counter never goes back; if it did, that interval counts 0
    ] as const) {
      now += 500;
      Object.assign(counters, { down, up, disk });
      sampler.sample();
    }
    expect(told).toEqual([2000, 4000, 0, 0]);
    const { intervalMs, samples } = sampler.history();
    expect(intervalMs).toBe(1000);
    expect(samples).toEqual([
      { t: 11_000, down: 4000, up: 1000, disk: 0 },
      { t: 11_500, down: 0, up: 0, disk: 8000 },
      { t: 12_000, down: 0, up: 200, disk: 0 },
    ]);
  });
});

describe('InstallWrites', () => {
  const op = (id: string, kind: ActiveOperation['kind'], bytesDone: number): ActiveOperation => ({
    id,
    kind,
    phase: 'x',
    bytesDone,
    bytesTotal: 100,
    speed: 0,
    etaSeconds: null,
    peers: 0,
  });

  it('adds what installs and streamed installs wrote, not downloads, and restarts per operation', () => {
    const writes = new InstallWrites();
    expect(writes.observe([op('a', 'install', 10), op('b', 'download', 50), op('c', 'stream-install', 5)])).toBe(15);
    expect(writes.observe([op('a', 'install', 30), op('c', 'stream-install', 5)])).toBe(35);
    // c restarts with another peer (its progress begins at 0 again), a is done and a new install of a begins
    expect(writes.observe([op('c', 'stream-install', 0)])).toBe(35);
    expect(writes.observe([op('a', 'install', 7), op('c', 'stream-install', 4)])).toBe(46);
  });
});
