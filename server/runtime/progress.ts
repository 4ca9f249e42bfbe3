// Bytes done, speed averaged over a sliding window, and the ETA it implies.
export interface ProgressSnapshot {
  bytesDone: number;
  bytesTotal: number;
  /** bytes per second over the last few seconds */
  speed: number;
  etaSeconds: number | null;
}

export class ProgressMeter {
  private bytesDone = 0;
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(
    private readonly bytesTotal: number,
    private readonly windowMs = 3_000,
  ) {}

  add(bytes: number): void {
    this.bytesDone += bytes;
  }

  /** counts bytes that were already there (verified from disk) without making them speed */
  skip(bytes: number): void {
    this.bytesDone += bytes;
    for (const s of this.samples) s.bytes += bytes;
  }

  snapshot(now = performance.now()): ProgressSnapshot {
    this.samples.push({ t: now, bytes: this.bytesDone });
    while (this.samples.length > 2 && now - this.samples[0]!.t > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    const speed = dt > 0.2 ? Math.max(0, (this.bytesDone - first.bytes) / dt) : 0;
    const remaining = Math.max(0, this.bytesTotal - this.bytesDone);
    return {
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      speed: Math.round(speed),
      etaSeconds: remaining === 0 ? 0 : speed > 0 ? Math.round(remaining / speed) : null,
    };
  }
}
