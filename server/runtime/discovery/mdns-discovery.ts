// The socket shell around mdns-records.ts. multicast-dns sends on one interface
// only, so there is one instance per multicast-capable IPv4 interface, joined and
// sending on that interface but bound to 0.0.0.0:5353 (bound to the interface
// address it would receive nothing). On Linux every such socket also receives
// what arrives on the other interfaces, so a packet is handled only by the
// instance whose subnet its source is on. A peer is kept per interface it was
// seen on (a route) and expires when its last route does; the cache is bounded.
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import makeMdns from 'multicast-dns';
import { PROTO_VERSION } from '../../../shared/wire.js';
import { LanspreadError } from '../errors.js';
import {
  MDNS_PORT,
  buildAnnouncement,
  buildBrowseQuery,
  buildResolveQuery,
  instanceName,
  matchQuery,
  parseResponse,
  pickHost,
  sameSubnet,
  validateLocalService,
  type LocalService,
  type ObservedService,
} from './mdns-records.js';

/** Browse query period; known peers are also re-asked at 80% of their TTL. */
export const DEFAULT_QUERY_INTERVAL_MS = 30_000;
/** How often interfaces are listed again, so ones that come up later are used. */
export const DEFAULT_INTERFACE_SCAN_INTERVAL_MS = 5_000;
/** TTL of our records (RFC 6762 recommends 120 s for records naming a host). */
export const DEFAULT_TTL_SECONDS = 120;
/** Peers kept at once; more are ignored until some expire. */
export const MAX_PEERS = 256;
/** Interfaces used at once. */
export const MAX_INTERFACES = 32;
/** Known peers are asked again at these fractions of their TTL (RFC 6762 section 5.2), then expired. */
const REFRESH_AT = [0.8, 0.9] as const;
/** The expiry timer never fires more often than this. */
const MIN_SWEEP_DELAY_MS = 50;
/** Our records go out at most once a second per interface (RFC 6762 section 6); the second announcement follows after this. */
const MIN_MULTICAST_INTERVAL_MS = 1_000;
/** A legacy (unicast, source port not 5353) query is answered at most this often per interface. */
const MIN_LEGACY_INTERVAL_MS = 100;
/** The same unresolved instance is asked about at most this often. */
const RESOLVE_QUERY_INTERVAL_MS = 1_000;
/** Wait for a goodbye to be sent before closing the socket, at most. */
const GOODBYE_TIMEOUT_MS = 1_000;
/** Wait for the first sockets to be bound in `start()`, at most. */
const START_TIMEOUT_MS = 2_000;

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

export interface DiscoveryLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface MdnsDiscoveryOptions {
  peerId: string;
  /** display name, sent in TXT `name` */
  name: string;
  /** our QUIC port, sent in SRV */
  port: number;
  /** TXT `proto`, default the wire protocol version */
  proto?: string;
  queryIntervalMs?: number;
  interfaceScanIntervalMs?: number;
  ttlSeconds?: number;
  logger?: DiscoveryLogger;
  /** IPv4 addresses of the interfaces to use; default every up, multicast-capable, non-loopback one */
  interfaces?: () => string[];
}

/** No interface could be bound for mDNS (port 5353 taken without address reuse, or not allowed). */
export class MdnsUnavailableError extends LanspreadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('mdns_unavailable', message, options);
    this.name = 'MdnsUnavailableError';
  }
}

interface DiscoveryEvents {
  peer: [DiscoveredPeer];
  'peer-expired': [string];
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

interface Iface {
  address: string;
  netmask: string;
}

interface Socket extends Iface {
  mdns: makeMdns.MulticastDNS;
  joined: boolean;
  bound: boolean;
  active: boolean;
  lastMulticastAt: number;
  lastLegacyAt: number;
  responseTimer?: NodeJS.Timeout;
  announceTimer?: NodeJS.Timeout;
  pendingEnumeration: boolean;
}

const silent: DiscoveryLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class MdnsDiscovery extends EventEmitter<DiscoveryEvents> {
  private readonly service: LocalService;
  private readonly queryIntervalMs: number;
  private readonly scanIntervalMs: number;
  private readonly log: DiscoveryLogger;
  private readonly listInterfaces: () => Iface[];
  private readonly sockets = new Map<string, Socket>();
  private readonly peers = new Map<string, CachedPeer>();
  private readonly byInstance = new Map<string, string>();
  private readonly resolveAskedAt = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Infinity;
  private running: Promise<void> | undefined;
  /** set from the start of stop(): packets are no longer handled, timers no longer armed */
  private closing = false;
  private stopping: Promise<void> | undefined;
  private cacheFullWarned = false;

  constructor(opts: MdnsDiscoveryOptions) {
    super();
    this.service = {
      peerId: opts.peerId,
      name: opts.name,
      port: opts.port,
      proto: opts.proto ?? String(PROTO_VERSION),
      ttlSeconds: opts.ttlSeconds ?? DEFAULT_TTL_SECONDS,
    };
    validateLocalService(this.service);
    this.queryIntervalMs = opts.queryIntervalMs ?? DEFAULT_QUERY_INTERVAL_MS;
    this.scanIntervalMs = opts.interfaceScanIntervalMs ?? DEFAULT_INTERFACE_SCAN_INTERVAL_MS;
    this.log = opts.logger ?? silent;
    const pick = opts.interfaces;
    this.listInterfaces = pick ? () => withNetmasks(pick()) : multicastInterfaces;
  }

  /** Open the sockets, announce and browse. Resolves once the current interfaces are bound. */
  start(): Promise<void> {
    if (this.closing) return this.stopping!.then(() => this.start());
    this.running ??= this.doStart();
    return this.running;
  }

  /** Send goodbyes, close every socket and forget all peers. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.running) return;
    this.stopping = this.doStop();
    await this.stopping;
  }

  private async doStart(): Promise<void> {
    this.stopping = undefined;
    this.closing = false;
    const opened = await Promise.all(this.scan());
    if (opened.length > 0 && !opened.some(Boolean)) {
      await this.closeAll(false);
      this.running = undefined;
      throw new MdnsUnavailableError('no interface could be bound for mDNS on port 5353');
    }
    if (opened.length === 0) this.log.warn({}, 'mDNS: no multicast-capable IPv4 interface yet');
    this.timers = [setInterval(() => this.scan(), this.scanIntervalMs), setInterval(() => this.browseAll(), this.queryIntervalMs)];
  }

  private async doStop(): Promise<void> {
    this.closing = true;
    await this.running?.catch(() => undefined);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    await this.closeAll(true);
    this.peers.clear();
    this.byInstance.clear();
    this.resolveAskedAt.clear();
    this.running = undefined;
    this.closing = false;
  }

  private async closeAll(goodbye: boolean): Promise<void> {
    await Promise.all([...this.sockets.values()].map((s) => this.close(s, goodbye)));
  }

  /** Open sockets on new interfaces, close those whose interface went away. */
  private scan(): Promise<boolean>[] {
    let wanted: Iface[];
    try {
      wanted = this.listInterfaces().slice(0, MAX_INTERFACES);
    } catch (err) {
      this.log.warn({ err }, 'mDNS: cannot list interfaces');
      return [];
    }
    for (const s of this.sockets.values()) {
      if (!wanted.some((w) => w.address === s.address)) {
        this.log.info({ interface: s.address }, 'mDNS: interface gone');
        void this.close(s, false);
        this.dropRoutesVia(s.address);
      }
    }
    return wanted.filter((w) => !this.sockets.has(w.address)).map((w) => this.open(w));
  }

  /** Resolves true once bound, false if binding failed. */
  private open(iface: Iface): Promise<boolean> {
    const mdns = makeMdns({ interface: iface.address, bind: '0.0.0.0', port: MDNS_PORT, reuseAddr: true, loopback: true, ttl: 255 });
    const s: Socket = {
      ...iface,
      mdns,
      joined: false,
      bound: false,
      active: false,
      lastMulticastAt: -Infinity,
      lastLegacyAt: -Infinity,
      pendingEnumeration: false,
    };
    this.sockets.set(iface.address, s);
    const activate = () => {
      if (s.active || !s.bound || !s.joined || this.sockets.get(s.address) !== s) return;
      s.active = true;
      this.log.info({ interface: s.address }, 'mDNS: announcing and browsing on interface');
      this.announce(s);
      s.announceTimer = setTimeout(() => this.announce(s), MIN_MULTICAST_INTERVAL_MS);
      this.send(s, buildBrowseQuery(this.knownAnswers(s)), 'query');
    };
    mdns.on('networkInterface', () => {
      s.joined = true;
      activate();
    });
    mdns.on('warning', (err: Error) => this.log.debug({ err, interface: s.address }, 'mDNS: warning'));
    mdns.on('response', (packet: unknown, rinfo: RemoteInfo) => this.guard(() => this.onResponse(s, packet, rinfo)));
    mdns.on('query', (packet: unknown, rinfo: RemoteInfo) => this.guard(() => this.onQuery(s, packet, rinfo)));
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(s.bound), START_TIMEOUT_MS);
      mdns.once('ready', () => {
        s.bound = true;
        clearTimeout(timer);
        if (!s.joined) this.log.warn({ interface: s.address }, 'mDNS: cannot join the multicast group yet; retrying');
        activate();
        resolve(true);
      });
      mdns.on('error', (err: Error) => {
        clearTimeout(timer);
        this.log.error({ err, interface: s.address }, 'mDNS: socket error; retried at the next interface scan');
        void this.close(s, false);
        resolve(false);
      });
    });
  }

  private async close(s: Socket, goodbye: boolean): Promise<void> {
    if (this.sockets.get(s.address) === s) this.sockets.delete(s.address);
    clearTimeout(s.responseTimer);
    clearTimeout(s.announceTimer);
    if (goodbye && s.active) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, GOODBYE_TIMEOUT_MS);
        this.send(s, { answers: buildAnnouncement(this.service, s.address, { ttlSeconds: 0 }) }, 'response', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    s.active = false;
    await new Promise<void>((resolve) => s.mdns.destroy(() => resolve()));
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.warn({ err }, 'mDNS: packet dropped');
    }
  }

  /** Is this packet for socket `s`? Sources on one of our subnets belong to that interface's socket. */
  private owns(s: Socket, source: string): boolean {
    if (sameSubnet(source, s.address, s.netmask)) return true;
    for (const other of this.sockets.values()) if (sameSubnet(source, other.address, other.netmask)) return false;
    return true;
  }

  private onResponse(s: Socket, packet: unknown, rinfo: RemoteInfo): void {
    // RFC 6762 section 6: responses not from port 5353 are ignored.
    if (this.closing || !s.active || rinfo.port !== MDNS_PORT || !this.owns(s, rinfo.address)) return;
    const parsed = parseResponse(packet, this.service.peerId);
    for (const instance of parsed.goodbyes) this.goodbye(s, instance);
    for (const svc of parsed.services) this.observe(s, svc, pickHost(svc.addresses, rinfo.address, s));
    const now = Date.now();
    const ask = parsed.unresolved.filter((i) => now - (this.resolveAskedAt.get(i) ?? -Infinity) >= RESOLVE_QUERY_INTERVAL_MS);
    if (ask.length > 0) {
      if (this.resolveAskedAt.size > MAX_PEERS) this.resolveAskedAt.clear();
      for (const i of ask) this.resolveAskedAt.set(i, now);
      this.send(s, buildResolveQuery(ask), 'query');
    }
  }

  private onQuery(s: Socket, packet: unknown, rinfo: RemoteInfo): void {
    if (this.closing || !s.active || !this.owns(s, rinfo.address)) return;
    const match = matchQuery(packet, this.service);
    if (!match.respond) return;
    const now = Date.now();
    if (rinfo.port !== MDNS_PORT) {
      // Legacy unicast query (RFC 6762 section 6.7): answer the sender directly, short TTLs, same id.
      if (now - s.lastLegacyAt < MIN_LEGACY_INTERVAL_MS) return;
      s.lastLegacyAt = now;
      const id = (packet as { id?: unknown }).id;
      const ttlSeconds = Math.min(10, this.service.ttlSeconds);
      const answers = buildAnnouncement(this.service, s.address, { ttlSeconds, enumeration: match.enumeration });
      this.send(s, { id: typeof id === 'number' ? id : 0, questions: match.questions, answers }, 'response', undefined, rinfo);
      return;
    }
    s.pendingEnumeration ||= match.enumeration;
    if (s.responseTimer) return;
    const wait = s.lastMulticastAt + MIN_MULTICAST_INTERVAL_MS - now;
    if (wait <= 0) this.announce(s);
    else s.responseTimer = setTimeout(() => this.announce(s), wait);
  }

  /** Multicast all our records on this interface (an announcement or an answer). */
  private announce(s: Socket): void {
    if (!s.active) return;
    clearTimeout(s.responseTimer);
    s.responseTimer = undefined;
    s.lastMulticastAt = Date.now();
    const answers = buildAnnouncement(this.service, s.address, { enumeration: s.pendingEnumeration });
    s.pendingEnumeration = false;
    this.send(s, { answers }, 'response');
  }

  private send(
    s: Socket,
    packet: makeMdns.ResponseOutgoingPacket | makeMdns.QueryOutgoingPacket,
    kind: 'response' | 'query',
    done?: () => void,
    to?: { address: string; port: number },
  ): void {
    const cb = (err: Error | null) => {
      if (err) this.log.debug({ err, interface: s.address }, `mDNS: ${kind} not sent`);
      done?.();
    };
    try {
      if (kind === 'response') s.mdns.respond(packet as makeMdns.ResponseOutgoingPacket, to, cb);
      else s.mdns.query(packet as makeMdns.QueryOutgoingPacket, to, cb);
    } catch (err) {
      cb(err as Error);
    }
  }

  private browseAll(): void {
    for (const s of this.sockets.values()) if (s.active) this.send(s, buildBrowseQuery(this.knownAnswers(s)), 'query');
  }

  /**
   * Instances seen on this interface with more than half their TTL left (RFC 6762
   * section 7.1), and our own: we hear our query through loopback and need not answer it.
   */
  private knownAnswers(s: Socket): Array<{ instance: string; ttlSeconds: number }> {
    const now = Date.now();
    const out = [{ instance: instanceName(this.service.peerId), ttlSeconds: this.service.ttlSeconds }];
    for (const p of this.peers.values()) {
      const r = p.routes.get(s.address);
      if (!r) continue;
      const left = Math.floor(r.ttlSeconds - (now - r.seenAt) / 1000);
      if (left > r.ttlSeconds / 2) out.push({ instance: p.service.instance, ttlSeconds: left });
    }
    return out;
  }

  private observe(s: Socket, svc: ObservedService, host: string): void {
    let p = this.peers.get(svc.peerId);
    if (!p) {
      if (this.peers.size >= MAX_PEERS) {
        if (!this.cacheFullWarned) this.log.warn({ max: MAX_PEERS }, 'mDNS: peer cache full; new peers ignored until some expire');
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
    p.routes.set(s.address, route);
    this.publish(p);
    this.scheduleSweep(dueAt(route));
  }

  private goodbye(s: Socket, instance: string): void {
    const peerId = this.byInstance.get(instance);
    const p = peerId === undefined ? undefined : this.peers.get(peerId);
    if (!p || !p.routes.delete(s.address)) return;
    this.publish(p);
  }

  private dropRoutesVia(address: string): void {
    for (const p of [...this.peers.values()]) if (p.routes.delete(address)) this.publish(p);
  }

  /** Emit `peer` when what we would tell changed, `peer-expired` when the last route went. */
  private publish(p: CachedPeer): void {
    const { peerId, name, proto, port, instance } = p.service;
    if (p.routes.size === 0) {
      this.peers.delete(peerId);
      if (this.byInstance.get(instance) === peerId) this.byInstance.delete(instance);
      if (this.peers.size < MAX_PEERS) this.cacheFullWarned = false;
      if (p.current) this.emit('peer-expired', peerId);
      return;
    }
    // Stay on the interface already told, while it lasts, so a peer seen on two does not flap.
    const via = p.current && p.routes.has(p.current.interfaceAddress) ? p.current.interfaceAddress : p.routes.keys().next().value!;
    const next: DiscoveredPeer = { peerId, name, proto, host: p.routes.get(via)!.host, port, interfaceAddress: via };
    const c = p.current;
    if (c && c.name === next.name && c.proto === next.proto && c.host === next.host && c.port === next.port && c.interfaceAddress === via)
      return;
    p.current = next;
    this.emit('peer', next);
  }

  /** Expire routes past their TTL; ask again for those at 80% and 90% of it (RFC 6762 section 5.2). */
  private sweep(): void {
    const now = Date.now();
    const refresh = new Set<string>();
    let next = Infinity;
    for (const p of [...this.peers.values()]) {
      let changed = false;
      for (const [via, r] of p.routes) {
        while (r.refreshes < REFRESH_AT.length && dueAt(r) <= now) {
          r.refreshes++;
          refresh.add(via);
        }
        if (dueAt(r) <= now) {
          p.routes.delete(via);
          changed = true;
        } else next = Math.min(next, dueAt(r));
      }
      if (changed) this.publish(p);
    }
    for (const via of refresh) {
      const s = this.sockets.get(via);
      if (s?.active) this.send(s, buildBrowseQuery(this.knownAnswers(s)), 'query');
    }
    this.scheduleSweep(next);
  }

  /** One timer for the earliest refresh or expiry, not a poll. */
  private scheduleSweep(at: number): void {
    if (at === Infinity || (this.sweepTimer && at >= this.sweepAt) || this.closing) return;
    clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(
      () => {
        this.sweepTimer = undefined;
        this.sweepAt = Infinity;
        this.sweep();
      },
      Math.max(MIN_SWEEP_DELAY_MS, at - Date.now()),
    );
  }
}

/** When a route is next due: its next refresh query, or its expiry. */
function dueAt(r: Route): number {
  return r.seenAt + r.ttlSeconds * 1000 * (REFRESH_AT[r.refreshes] ?? 1);
}

/** Up, multicast-capable, non-internal interfaces, first IPv4 address of each. */
function multicastInterfaces(): Iface[] {
  const out: Iface[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4 && isUpAndMulticast(name)) out.push({ address: v4.address, netmask: v4.netmask });
  }
  return out;
}

/** IFF_UP and IFF_MULTICAST from sysfs on Linux; elsewhere (or unreadable) assumed. */
function isUpAndMulticast(name: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    const flags = Number.parseInt(fs.readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
    return Number.isNaN(flags) || ((flags & 0x1) !== 0 && (flags & 0x1000) !== 0);
  } catch {
    return true;
  }
}

/** Netmasks of given addresses from the system; an unknown one only matches itself. */
function withNetmasks(addresses: string[]): Iface[] {
  const all = Object.values(os.networkInterfaces()).flatMap((a) => a ?? []);
  return [...new Set(addresses)].map((address) => ({
    address,
    netmask: all.find((a) => a.address === address)?.netmask ?? '255.255.255.255',
  }));
}
