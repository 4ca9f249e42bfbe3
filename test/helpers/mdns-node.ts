// A discovery node for scenario tests: mdns-driver.mjs run inside a netns host,
// its reported events collected so a test can wait for "saw peer X". The
// process is killed when the test that started it finishes.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';
import type { DiscoveredPeer, MdnsDiscoveryOptions } from '../../server/runtime/discovery/index.js';
import type { Host } from './netns.js';

const DRIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mdns-driver.mjs');

/** Short timings so scenarios run in seconds. */
export const FAST_TIMINGS = { queryIntervalMs: 1_000, interfaceScanIntervalMs: 500, ttlSeconds: 30 } as const;

export type DriverEvent =
  | { event: 'started' }
  | { event: 'stopped' }
  | { event: 'error'; message: string }
  | { event: 'peer'; peer: DiscoveredPeer }
  | { event: 'peer-expired'; peerId: string };

export interface MdnsNode {
  peerId: string;
  port: number;
  host: Host;
  child: ChildProcess;
  events: DriverEvent[];
  /** what the node currently knows: last `peer` per id, minus expired ones */
  peers(): Map<string, DiscoveredPeer>;
  /** resolves with the first known peer (now or later) that passes `match` */
  waitForPeer(peerId: string, timeoutMs?: number, match?: (p: DiscoveredPeer) => boolean): Promise<DiscoveredPeer>;
  waitForExpired(peerId: string, timeoutMs?: number): Promise<void>;
  /** graceful stop (goodbye sent); resolves when the process has exited */
  stop(): Promise<void>;
  stderr(): string;
}

let warmed: Promise<unknown> | undefined;

/** Load the driver once outside the namespaces, so the nodes start from the transpile cache. */
function warmDriver(): Promise<unknown> {
  warmed ??= promisify(execFile)(process.execPath, [DRIVER, '--warm'], { timeout: 60_000 });
  return warmed;
}

export function randomPeerId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

export async function startMdnsNode(
  host: Host,
  opts: Partial<Omit<MdnsDiscoveryOptions, 'logger' | 'interfaces'>> = {},
): Promise<MdnsNode> {
  const peerId = opts.peerId ?? randomPeerId();
  const port = opts.port ?? 20_000 + Math.floor(Math.random() * 20_000);
  await warmDriver();
  const config = { name: `node-${peerId.slice(0, 6)}`, ...FAST_TIMINGS, ...opts, peerId, port };
  const child = host.spawn(process.execPath, [DRIVER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: DriverEvent[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-200_000)));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as DriverEvent);
      } catch {
        continue;
      }
      for (const w of waiters) w();
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  void exited.then(() => {
    for (const w of waiters) w();
  });

  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const tick = () => {
        let v: T | undefined;
        try {
          v = check();
        } catch (e) {
          finish();
          reject(e as Error);
          return;
        }
        if (v !== undefined) {
          finish();
          resolve(v);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(new Error(`${what}: the node on ${host.name} exited\n${err.slice(-4000)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${what}: not within ${timeoutMs} ms; events: ${JSON.stringify(events)}\n${err.slice(-4000)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(tick);
      };
      waiters.add(tick);
      tick();
    });

  const peers = () => {
    const m = new Map<string, DiscoveredPeer>();
    for (const e of events) {
      if (e.event === 'peer') m.set(e.peer.peerId, e.peer);
      else if (e.event === 'peer-expired') m.delete(e.peerId);
    }
    return m;
  };

  await until(
    () => {
      const e = events.find((x) => x.event === 'started' || x.event === 'error');
      if (e?.event === 'error') throw new Error(`node on ${host.name} failed to start: ${e.message}`);
      return e;
    },
    10_000,
    'start',
  );

  return {
    peerId,
    port,
    host,
    child,
    events,
    peers,
    stderr: () => err,
    waitForPeer: (id, timeoutMs = 5_000, match = () => true) =>
      until(
        () => {
          const p = peers().get(id);
          return p && match(p) ? p : undefined;
        },
        timeoutMs,
        `peer ${id} seen from ${host.name}`,
      ),
    waitForExpired: (id, timeoutMs = 5_000) =>
      until(
        () => (events.some((e) => e.event === 'peer-expired' && e.peerId === id) ? true : undefined),
        timeoutMs,
        `peer ${id} expired on ${host.name}`,
      ).then(() => undefined),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end('stop\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
