// The socket shell around mdns-records.ts. multicast-dns sends on one interface
// only, so there is one instance per multicast-capable IPv4 interface, joined and
// sending on that interface but bound to 0.0.0.0:5353 (bound to the interface
// address it would receive nothing). On Linux every such socket also receives
// what arrives on the other interfaces, so a packet is handled only by the
// instance whose subnet its source is on. A peer is kept per interface it was
// seen on (a route) and expires when its last route does (peer-cache.ts).
import { EventEmitter } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
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
} from './mdns-records.js';
import { multicastInterfaces, withNetmasks, type InterfaceAddress } from './interfaces.js';
import { PeerCache, type DiscoveredPeer } from './peer-cache.js';
import { ErrorCode } from '../../../shared/error-codes.js';

/** Browse query period; known peers are also re-asked at 80% of their TTL. */
export const DEFAULT_QUERY_INTERVAL_MS = 30_000;
/** How often interfaces are listed again, so ones that come up later are used. */
export const DEFAULT_INTERFACE_SCAN_INTERVAL_MS = 5_000;
/** TTL of our records (RFC 6762 recommends 120 s for records naming a host). */
export const DEFAULT_TTL_SECONDS = 120;
/** Interfaces used at once. */
export const MAX_INTERFACES = 32;
/** Our records go out at most once a second per interface (RFC 6762 section 6); the second announcement follows after this. */
const MIN_MULTICAST_INTERVAL_MS = 1_000;
/** A legacy (unicast, source port not 5353) query is answered at most this often per interface. */
const MIN_LEGACY_INTERVAL_MS = 100;
/** Wait for a goodbye to be sent before closing the socket, at most. */
const GOODBYE_TIMEOUT_MS = 1_000;
/** Wait for the first sockets to be bound in `start()`, at most. */
const START_TIMEOUT_MS = 2_000;

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
    super(ErrorCode.MdnsUnavailable, message, options);
  }
}

interface DiscoveryEvents {
  peer: [DiscoveredPeer];
  'peer-expired': [string];
}

interface Socket extends InterfaceAddress {
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
  private readonly listInterfaces: () => InterfaceAddress[];
  private readonly sockets = new Map<string, Socket>();
  private readonly cache: PeerCache;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> | undefined;
  /** set from the start of stop(): packets are no longer handled, timers no longer armed */
  private closing = false;
  private stopping: Promise<void> | undefined;

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
    this.cache = new PeerCache({
      onPeer: (peer) => this.emit('peer', peer),
      onExpired: (peerId) => this.emit('peer-expired', peerId),
      onRefresh: (via) => {
        const s = this.sockets.get(via);
        if (s?.active) this.send(s, buildBrowseQuery(this.knownAnswers(s)), 'query');
      },
      logger: this.log,
    });
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
    this.cache.halt();
    await this.running?.catch(() => undefined);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // Nothing reads the cache from here on: packets are ignored while closing and no timer is left.
    this.cache.clear();
    await this.closeAll(true);
    this.running = undefined;
    this.closing = false;
  }

  private async closeAll(goodbye: boolean): Promise<void> {
    await Promise.all([...this.sockets.values()].map((s) => this.close(s, goodbye)));
  }

  /** Open sockets on new interfaces, close those whose interface went away. */
  private scan(): Promise<boolean>[] {
    let wanted: InterfaceAddress[];
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
        this.cache.dropRoutesVia(s.address);
      }
    }
    return wanted.filter((w) => !this.sockets.has(w.address)).map((w) => this.open(w));
  }

  /** Resolves true once bound, false if binding failed. */
  private open(iface: InterfaceAddress): Promise<boolean> {
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
    for (const instance of parsed.goodbyes) this.cache.goodbye(s.address, instance);
    for (const svc of parsed.services) this.cache.observe(s.address, svc, pickHost(svc.addresses, rinfo.address, s));
    const ask = this.cache.toResolve(parsed.unresolved);
    if (ask.length > 0) this.send(s, buildResolveQuery(ask), 'query');
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
    return [{ instance: instanceName(this.service.peerId), ttlSeconds: this.service.ttlSeconds }, ...this.cache.knownAnswers(s.address)];
  }
}
