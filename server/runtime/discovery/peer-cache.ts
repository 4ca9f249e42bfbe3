// The discovered-peer cache. A peer is keyed by peer id and holds one route per
// interface it was seen on; it lives while any route does. A route is asked about
// again at 80% and 90% of its TTL and dropped at 100% (RFC 6762 section 5.2), by a
// single timer armed for the earliest of these, never a poll. `onPeer` is called
// when a peer is new or what we tell about it changed, `onExpired` when the last
// route of a told peer goes. At most `maxPeers` are held; more are ignored.
import type { ObservedService } from './mdns-records.js';

/** Peers kept at once; more are ignored until some expire. */
export const MAX_PEERS = 256;
/** Known peers are asked again at these fractions of their TTL (RFC 6762 section 5.2), then expired. */
const REFRESH_AT = [0.8, 0.9] as const;
/** The expiry timer never fires more often than this. */
const MIN_SWEEP_DELAY_MS = 50;
/** The same unresolved instance is asked about at most this often. */
const RESOLVE_QUERY_INTERVAL_MS = 1_000;

export interface DiscoveredPeer {
  peerId: string;
  name: string;
  proto: string;
  /** address to reach it on */
  host: string;
  /** its QUIC port */
  port: number;
  /** our interface address it was seen on */
  interfaceAddress: string;
}

export interface PeerCacheOptions {
  /** a peer is new, or what we tell about it changed */
  onPeer: (peer: DiscoveredPeer) => void;
  /** the last route of a peer told with `onPeer` went */
  onExpired: (peerId: string) => void;
  /** a route seen via this interface address is at a refresh point: ask again there */
  onRefresh: (via: string) => void;
  logger?: { warn(obj: object, msg?: string): void };
  /** default `MAX_PEERS` */
  maxPeers?: number;
  /** ascending fractions of the TTL at which a route is asked about again; default 0.8 and 0.9 */
  refreshAt?: readonly number[];
  minSweepDelayMs?: number;
  resolveQueryIntervalMs?: number;
}

interface Route {
  host: string;
  ttlSeconds: number;
  seenAt: number;
  /** refresh queries sent since it was seen */
  refreshes: number;
}

interface CachedPeer {
  service: ObservedService;
  /** by our interface address */
  routes: Map<string, Route>;
  current?: DiscoveredPeer;
}

export class PeerCache {
  private readonly onPeer: (peer: DiscoveredPeer) => void;
  private readonly onExpired: (peerId: string) => void;
  private readonly onRefresh: (via: string) => void;
  private readonly log: { warn(obj: object, msg?: string): void } | undefined;
  private readonly maxPeers: number;
  private readonly refreshAt: readonly number[];
  private readonly minSweepDelayMs: number;
  private readonly resolveQueryIntervalMs: number;
  private readonly peers = new Map<string, CachedPeer>();
  private readonly byInstance = new Map<string, string>();
  private readonly resolveAskedAt = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Infinity;
  /** set by halt(): the sweep timer is no longer armed, until clear() */
  private halted = false;
  private cacheFullWarned = false;

  constructor(opts: PeerCacheOptions) {
    this.onPeer = opts.onPeer;
    this.onExpired = opts.onExpired;
    this.onRefresh = opts.onRefresh;
    this.log = opts.logger;
    this.maxPeers = opts.maxPeers ?? MAX_PEERS;
    this.refreshAt = opts.refreshAt ?? REFRESH_AT;
    this.minSweepDelayMs = opts.minSweepDelayMs ?? MIN_SWEEP_DELAY_MS;
    this.resolveQueryIntervalMs = opts.resolveQueryIntervalMs ?? RESOLVE_QUERY_INTERVAL_MS;
  }

  /** A service was seen via our interface `via`, reachable at `host`. */
  observe(via: string, svc: ObservedService, host: string): void {
    let p = this.peers.get(svc.peerId);
    if (!p) {
      if (this.peers.size >= this.maxPeers) {
        if (!this.cacheFullWarned) this.log?.warn({ max: this.maxPeers }, 'mDNS: peer cache full; new peers ignored until some expire');
        this.cacheFullWarned = true;
        return;
      }
      p = { service: svc, routes: new Map() };
      this.peers.set(svc.peerId, p);
    }
    if (p.service.instance !== svc.instance && this.byInstance.get(p.service.instance) === svc.peerId)
      this.byInstance.delete(p.service.instance);
    p.service = svc;
    this.byInstance.set(svc.instance, svc.peerId);
    const route: Route = { host, ttlSeconds: svc.ttlSeconds, seenAt: Date.now(), refreshes: 0 };
    p.routes.set(via, route);
    this.publish(p);
    this.scheduleSweep(this.dueAt(route));
  }

  /** A goodbye (TTL 0) for `instance` arrived via `via`: that route goes at once. */
  goodbye(via: string, instance: string): void {
    const peerId = this.byInstance.get(instance);
    const p = peerId === undefined ? undefined : this.peers.get(peerId);
    if (!p || !p.routes.delete(via)) return;
    this.publish(p);
  }

  /** The interface `via` went away: every route through it goes. */
  dropRoutesVia(via: string): void {
    for (const p of [...this.peers.values()]) if (p.routes.delete(via)) this.publish(p);
  }

  /** Instances seen via `via` with more than half their TTL left (RFC 6762 section 7.1), with that TTL. */
  knownAnswers(via: string): Array<{ instance: string; ttlSeconds: number }> {
    const now = Date.now();
    const out: Array<{ instance: string; ttlSeconds: number }> = [];
    for (const p of this.peers.values()) {
      const r = p.routes.get(via);
      if (!r) continue;
      const left = Math.floor(r.ttlSeconds - (now - r.seenAt) / 1000);
      if (left > r.ttlSeconds / 2) out.push({ instance: p.service.instance, ttlSeconds: left });
    }
    return out;
  }

  /** Of these unresolved instances, those not asked about within the resolve interval; they count as asked now. */
  toResolve(instances: string[]): string[] {
    const now = Date.now();
    const ask = instances.filter((i) => now - (this.resolveAskedAt.get(i) ?? -Infinity) >= this.resolveQueryIntervalMs);
    if (ask.length > 0) {
      if (this.resolveAskedAt.size > this.maxPeers) this.resolveAskedAt.clear();
      for (const i of ask) this.resolveAskedAt.set(i, now);
    }
    return ask;
  }

  /** Stop arming the sweep timer (the owner is stopping); one already armed still fires. */
  halt(): void {
    this.halted = true;
  }

  /** Cancel the sweep timer and forget every peer, without telling anyone; arming is allowed again. */
  clear(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    this.peers.clear();
    this.byInstance.clear();
    this.resolveAskedAt.clear();
    this.halted = false;
  }

  /** Tell `onPeer` when what we would tell changed, `onExpired` when the last route went. */
  private publish(p: CachedPeer): void {
    const { peerId, name, proto, port, instance } = p.service;
    if (p.routes.size === 0) {
      this.peers.delete(peerId);
      if (this.byInstance.get(instance) === peerId) this.byInstance.delete(instance);
      if (this.peers.size < this.maxPeers) this.cacheFullWarned = false;
      if (p.current) this.onExpired(peerId);
      return;
    }
    // Stay on the interface already told, while it lasts, so a peer seen on two does not flap.
    const via = p.current && p.routes.has(p.current.interfaceAddress) ? p.current.interfaceAddress : p.routes.keys().next().value!;
    const next: DiscoveredPeer = { peerId, name, proto, host: p.routes.get(via)!.host, port, interfaceAddress: via };
    const c = p.current;
    if (c && c.name === next.name && c.proto === next.proto && c.host === next.host && c.port === next.port && c.interfaceAddress === via)
      return;
    p.current = next;
    this.onPeer(next);
  }

  /** Expire routes past their TTL; ask again for those at a refresh point (RFC 6762 section 5.2). */
  private sweep(): void {
    const now = Date.now();
    const refresh = new Set<string>();
    let next = Infinity;
    for (const p of [...this.peers.values()]) {
      let changed = false;
      for (const [via, r] of p.routes) {
        while (r.refreshes < this.refreshAt.length && this.dueAt(r) <= now) {
          r.refreshes++;
          refresh.add(via);
        }
        if (this.dueAt(r) <= now) {
          p.routes.delete(via);
          changed = true;
        } else next = Math.min(next, this.dueAt(r));
      }
      if (changed) this.publish(p);
    }
    for (const via of refresh) this.onRefresh(via);
    this.scheduleSweep(next);
  }

  /** One timer for the earliest refresh or expiry, not a poll. */
  private scheduleSweep(at: number): void {
    if (at === Infinity || (this.sweepTimer && at >= this.sweepAt) || this.halted) return;
    clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(
      () => {
        this.sweepTimer = undefined;
        this.sweepAt = Infinity;
        this.sweep();
      },
      Math.max(this.minSweepDelayMs, at - Date.now()),
    );
  }

  /** When a route is next due: its next refresh query, or its expiry. */
  private dueAt(r: Route): number {
    return r.seenAt + r.ttlSeconds * 1000 * (this.refreshAt[r.refreshes] ?? 1);
  }
}
