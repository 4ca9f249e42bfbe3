// Slows token guessing per client address, never for everyone: each wrong token
// from an address makes that address's next attempt wait longer (0, 250 ms,
// 500 ms, … capped at 4 s), failures fade one per `decayMs`, and a right token
// from the address clears its record. Attempts from one address are queued one
// after the other, so sending guesses in parallel does not skip the wait. At
// most `maxTracked` addresses are remembered (least recently failed forgotten
// first), so a flood of addresses cannot grow memory without bound.
import { isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AuthThrottleOptions {
  /** wait after the first failure; doubles with each further one */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** one remembered failure is forgiven per this much quiet time */
  decayMs?: number;
  maxTracked?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Record {
  failures: number;
  lastFailureAt: number;
  /** when the next attempt from this address may be checked */
  nextAttemptAt: number;
}

export const AUTH_THROTTLE_DEFAULTS = { baseDelayMs: 250, maxDelayMs: 4_000, decayMs: 10_000, maxTracked: 10_000 } as const;

const realSleep = (ms: number): Promise<void> => sleep(ms);

export class AuthThrottle {
  private readonly records = new Map<string, Record>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly decayMs: number;
  private readonly maxTracked: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: AuthThrottleOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? AUTH_THROTTLE_DEFAULTS.baseDelayMs;
    this.maxDelayMs = opts.maxDelayMs ?? AUTH_THROTTLE_DEFAULTS.maxDelayMs;
    this.decayMs = opts.decayMs ?? AUTH_THROTTLE_DEFAULTS.decayMs;
    this.maxTracked = opts.maxTracked ?? AUTH_THROTTLE_DEFAULTS.maxTracked;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
  }

  /** How many addresses are remembered (for tests and the memory bound). */
  get size(): number {
    return this.records.size;
  }

  /** The wait the next attempt from `address` would get, ignoring queued attempts. */
  delayFor(address: string): number {
    const record = this.records.get(clientKey(address));
    if (!record) return 0;
    const failures = this.effectiveFailures(record);
    return failures === 0 ? 0 : Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (failures - 1));
  }

  /** Waits as long as this address has earned before its credential is checked. */
  async beforeAttempt(address: string): Promise<void> {
    const key = clientKey(address);
    const record = this.records.get(key);
    if (!record) return;
    const now = this.now();
    const start = Math.max(now, record.nextAttemptAt);
    const wait = start - now + this.delayFor(address);
    if (wait <= 0) return;
    record.nextAttemptAt = now + wait;
    await this.sleep(wait);
  }

  failed(address: string): void {
    const key = clientKey(address);
    const now = this.now();
    const record = this.records.get(key);
    const failures = record ? this.effectiveFailures(record) + 1 : 1;
    this.records.delete(key); // re-insert: the Map's order is then least recently failed first
    this.records.set(key, { failures, lastFailureAt: now, nextAttemptAt: record?.nextAttemptAt ?? 0 });
    while (this.records.size > this.maxTracked) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
    }
  }

  succeeded(address: string): void {
    this.records.delete(clientKey(address));
  }

  private effectiveFailures(record: Record): number {
    const forgiven = Math.floor((this.now() - record.lastFailureAt) / this.decayMs);
    return Math.max(0, record.failures - forgiven);
  }
}

/**
 * The unit an attacker controls: one IPv4 address, or one IPv6 /64 (a single
 * machine usually has a whole /64 to pick addresses from).
 */
export function clientKey(address: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return v4mapped[1] as string;
  if (!isIPv6(address)) return address;
  const full = expandIPv6(address);
  return `${full.slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''));
}
