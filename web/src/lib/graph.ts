// Pure geometry and words for the throughput graphs: samples (bytes per second,
// one per interval) become an SVG path on a fixed window ending at the newest
// sample, a round scale, and a sentence per series for screen readers. No DOM.
import type { ThroughputSample } from '../../../shared/api.js';
import { formatSpeed, MIB } from './format.js';

export type SeriesKey = 'down' | 'up' | 'disk';

/** The smallest scale shown: below it a trickle would fill the graph. */
export const MIN_SCALE = MIB / 4;

/** A round top for the scale: 0.25 or 0.5 MiB/s, then 1, 2 or 5 × 10ⁿ MiB/s; never below the value. */
export function niceMax(value: number): number {
  if (value <= MIN_SCALE) return MIN_SCALE;
  if (value <= 2 * MIN_SCALE) return 2 * MIN_SCALE;
  for (let power = 1; ; power *= 10) {
    for (const step of [1, 2, 5]) if (value <= step * power * MIB) return step * power * MIB;
  }
}

/**
 * The series as an SVG path in a `width` × `height` box: x runs over the last
 * `windowMs` ending at `now`, y from 0 (bottom) to `max` (top). Empty when no
 * sample falls in the window.
 */
export function seriesPath(
  samples: readonly ThroughputSample[],
  key: SeriesKey,
  opts: { max: number; windowMs: number; now: number; width: number; height: number },
): string {
  const shown = samples.filter((s) => s.t >= opts.now - opts.windowMs);
  return shown
    .map((s, i) => {
      const x = opts.width * (1 - (opts.now - s.t) / opts.windowMs);
      const y = opts.height * (1 - Math.min(s[key], opts.max) / opts.max);
      return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

export interface SeriesFigures {
  now: number;
  peak: number;
  average: number;
}

export function seriesFigures(samples: readonly ThroughputSample[], key: SeriesKey): SeriesFigures {
  if (samples.length === 0) return { now: 0, peak: 0, average: 0 };
  const values = samples.map((s) => s[key]);
  return { now: values.at(-1)!, peak: Math.max(...values), average: values.reduce((a, b) => a + b, 0) / values.length };
}

/** "Download: now 1.2 MiB/s, average 0.8 MiB/s, peak 2.0 MiB/s." */
export function seriesSentence(label: string, figures: SeriesFigures): string {
  return `${label}: now ${formatSpeed(figures.now)}, average ${formatSpeed(figures.average)}, peak ${formatSpeed(figures.peak)}.`;
}

/** Both lists as one, each instant once, oldest first, the newest `keep`. */
export function mergeSamples(list: readonly ThroughputSample[], incoming: readonly ThroughputSample[], keep: number): ThroughputSample[] {
  const byTime = new Map<number, ThroughputSample>();
  for (const s of [...list, ...incoming]) byTime.set(s.t, s);
  return [...byTime.values()].sort((a, b) => a.t - b.t).slice(-keep);
}
