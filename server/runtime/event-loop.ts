// How long the event loop was held up since start (perf_hooks' histogram of
// timer lateness). A node that moves hundreds of MiB/s must still answer the
// dashboard and peers' pings promptly; this is how that is watched
// (GET /api/stats, and the download benchmark).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface EventLoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Sampling resolution of the histogram. */
const RESOLUTION_MS = 10;

export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  start(): void {
    this.histogram.enable();
  }

  stop(): void {
    this.histogram.disable();
  }

  snapshot(): EventLoopDelay {
    // the histogram records each whole sampling interval (ns); the delay is what exceeds the interval
    const ms = (ns: number): number => Math.max(0, Math.round((Number.isFinite(ns) ? ns : 0) / 1e4) / 100 - RESOLUTION_MS);
    return { p50Ms: ms(this.histogram.percentile(50)), p99Ms: ms(this.histogram.percentile(99)), maxMs: ms(this.histogram.max) };
  }
}
