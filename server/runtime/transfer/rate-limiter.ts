// A token bucket shared by every transfer in one direction, so a seed node can
// cap what it sends or receives without starving games on the same network.
// The rate can change at any time (settings API) and applies at once.
import { setTimeout as sleep } from 'node:timers/promises';

export class RateLimiter {
  private tokens = 0;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  /** @param bytesPerSecond 0 = no limit */
  constructor(private bytesPerSecond: number) {}

  setRate(bytesPerSecond: number): void {
    this.refill();
    this.bytesPerSecond = bytesPerSecond;
    this.tokens = Math.min(this.tokens, this.burst);
  }

  get rate(): number {
    return this.bytesPerSecond;
  }

  /** Wait until `bytes` may pass. Callers are served in order. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSecond === 0) return Promise.resolve();
    const turn = this.queue.then(() => this.wait(bytes, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private get burst(): number {
    return Math.max(64 * 1024, this.bytesPerSecond / 10);
  }

  private refill(): void {
    const now = performance.now();
    if (this.bytesPerSecond > 0) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }

  private async wait(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.bytesPerSecond === 0) return;
      this.refill();
      if (this.tokens >= Math.min(bytes, this.burst)) {
        this.tokens -= bytes; // may go negative: the next caller waits it off
        return;
      }
      const needed = Math.min(bytes, this.burst) - this.tokens;
      const ms = Math.min(250, Math.max(1, (needed / this.bytesPerSecond) * 1000));
      await sleep(ms);
    }
  }
}
