// Throughput over time for the dashboard's graphs: one sample per interval
// (1 s) of bytes received, sent, and written to disk by installs, kept for the
// last `keep` intervals (5 minutes), so a page opened or reloaded mid-download
// draws the recent past at once. Samples are rates (bytes per second) of
// counters that only grow; a counter that goes back (never expected) counts 0.
import type { ActiveOperation, StatsHistory, ThroughputSample } from '../../shared/api.js';

export const SAMPLE_INTERVAL_MS = 1_000;
export const SAMPLES_KEPT = 300;

export interface ByteCounters {
  down: number;
  up: number;
  disk: number;
}

export interface ThroughputOptions {
  read: () => ByteCounters;
  onSample?: (sample: ThroughputSample) => void;
  intervalMs?: number;
  keep?: number;
  now?: () => number;
}

export class ThroughputSampler {
  private readonly samples: ThroughputSample[] = [];
  private last: ByteCounters | null = null;
  private lastAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ThroughputOptions) {}

  get intervalMs(): number {
    return this.opts.intervalMs ?? SAMPLE_INTERVAL_MS;
  }

  start(): void {
    if (this.timer) return;
    this.last = this.opts.read();
    this.lastAt = this.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Take one sample now (the timer calls this; tests may too). */
  sample(): ThroughputSample {
    const at = this.now();
    const counters = this.opts.read();
    const last = this.last ?? counters;
    const seconds = Math.max((at - this.lastAt) / 1000, 0.001);
    const rate = (key: keyof ByteCounters) => Math.round(Math.max(0, counters[key] - last[key]) / seconds);
    const sample: ThroughputSample = { t: at, down: rate('down'), up: rate('up'), disk: rate('disk') };
    this.last = counters;
    this.lastAt = at;
    this.samples.push(sample);
    if (this.samples.length > (this.opts.keep ?? SAMPLES_KEPT)) this.samples.shift();
    this.opts.onSample?.(sample);
    return sample;
  }

  history(): StatsHistory {
    return { intervalMs: this.intervalMs, samples: [...this.samples] };
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

/**
 * Bytes written by installs and streamed installs so far, from their
 * operations' progress: each operation's growth of `bytesDone` since it was
 * last seen. Call `observe` with the running operations before reading `total`.
 */
export class InstallWrites {
  total = 0;
  private readonly seen = new Map<string, number>();

  observe(operations: readonly ActiveOperation[]): number {
    const live = new Set<string>();
    for (const op of operations) {
      if (op.kind !== 'install' && op.kind !== 'stream-install') continue;
      const key = `${op.kind}:${op.id}`;
      live.add(key);
      const before = this.seen.get(key) ?? 0;
      if (op.bytesDone > before) this.total += op.bytesDone - before;
      this.seen.set(key, op.bytesDone);
    }
    for (const key of this.seen.keys()) if (!live.has(key)) this.seen.delete(key);
    return this.total;
  }
}
