// The graphs' pure parts: a round scale, the path on a fixed window ending at the
// newest sample, the figures and sentence a screen reader gets, and merging the
// snapshot with live samples.
import { describe, expect, it } from 'vitest';
import type { ThroughputSample } from '../../shared/api.js';
import { MIB } from '../../web/src/lib/format.js';
import { mergeSamples, niceMax, seriesFigures, seriesPath, seriesSentence } from '../../web/src/lib/graph.js';

const sample = (t: number, down: number, up = 0, disk = 0): ThroughputSample => ({ t, down, up, disk });

describe('graph', () => {
  it('rounds the scale up to 0.25, 0.5, 1, 2, 5, 10… MiB/s', () => {
    expect([0, MIB / 8, MIB / 3, MIB, 1.5 * MIB, 3 * MIB, 7 * MIB, 11 * MIB, 400 * MIB].map((v) => niceMax(v) / MIB)).toEqual([
      0.25, 0.25, 0.5, 1, 2, 5, 10, 20, 500,
    ]);
  });

  it('draws the window ending at the newest sample, the scale top at the top, and leaves out older samples', () => {
    const samples = [sample(0, 4), sample(5_000, 2), sample(10_000, 0), sample(15_000, 8)];
    const d = seriesPath(samples, 'down', { max: 4, windowMs: 10_000, now: 15_000, width: 100, height: 50 });
    // t=0 is outside the window (5 s to 15 s); 2 of 4 is half way up; 0 at the bottom; 8 is capped at the top
    expect(d).toBe('M0.0,25.0 L50.0,50.0 L100.0,0.0');
  });

  it('gives now, average and peak, and says them in a sentence', () => {
    const samples = [sample(1, MIB), sample(2, 3 * MIB), sample(3, 2 * MIB)];
    const figures = seriesFigures(samples, 'down');
    expect(figures).toEqual({ now: 2 * MIB, peak: 3 * MIB, average: 2 * MIB });
    expect(seriesSentence('Download', figures)).toBe('Download: now 2.0 MiB/s, average 2.0 MiB/s, peak 3.0 MiB/s.');
    expect(seriesFigures([], 'up')).toEqual({ now: 0, peak: 0, average: 0 });
  });

  it('merges the snapshot with live samples: each instant once, oldest first, the newest kept', () => {
    const merged = mergeSamples([sample(1, 1), sample(2, 2)], [sample(2, 9), sample(3, 3)], 2);
    expect(merged).toEqual([sample(2, 9), sample(3, 3)]);
    // a snapshot that arrives after a live sample goes before it
    expect(mergeSamples([sample(3, 3)], [sample(1, 1), sample(2, 2)], 5).map((s) => s.t)).toEqual([1, 2, 3]);
  });
});
