// DNS-SD records of the `_lanspread._udp.local` service (SPEC section 4) as pure
// functions: what a node announces, which queries it answers, and how a received
// packet becomes discovered services. Everything received is hostile until
// checked: nothing here throws on a packet, whatever its shape, and everything a
// peer's packet can make the caller keep is bounded by `LIMITS`.
import { isIPv4 } from 'node:net';
import type mDNS from 'multicast-dns';
import { ErrorCode } from '../../../shared/error-codes.js';
import { LanspreadError } from '../errors.js';

export type MdnsAnswer = mDNS.ResponseOutgoingPacket['answers'][number];
export type MdnsQuestion = mDNS.QueryOutgoingPacket['questions'][number];

export const SERVICE_TYPE = '_lanspread._udp.local';
/** DNS-SD service type enumeration (RFC 6763 section 9), what `avahi-browse -a` asks. */
export const SERVICE_ENUMERATION = '_services._dns-sd._udp.local';
export const MDNS_PORT = 5353;
export const PEER_ID_RE = /^[0-9a-f]{32,64}$/;
const PROTO_RE = /^[0-9A-Za-z._-]{1,16}$/;
/** A DNS label is at most 63 bytes; a 64-char peer id is cut to fit (the TXT `id` stays whole). */
const MAX_LABEL = 63;
/** Control characters (C0, DEL, C1) and the invisible or reordering ones (bidi overrides, zero-width). */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

/** Bounds on what one received packet can make us look at or keep. */
export const LIMITS = {
  /** records (answers, then additionals) read per packet; the rest are ignored */
  recordsPerPacket: 256,
  /** services taken from one packet */
  servicesPerPacket: 16,
  /** questions looked at in one query */
  questionsPerQuery: 32,
  /** a TXT record larger than this, or with more strings, is ignored whole */
  txtBytes: 1300,
  txtEntries: 32,
  /** display name, in characters, after control characters are removed */
  nameChars: 64,
  /** A records kept per service */
  addressesPerService: 8,
  /** longer TTLs are cut to this (RFC 6762 recommends at most 75 minutes) */
  ttlSeconds: 4500,
  /** announced instances without SRV/TXT that one packet can make us ask about */
  unresolvedPerPacket: 8,
  /** known answers put into one query (keeps it well under one MTU) */
  knownAnswers: 20,
} as const;

/** Options of the discovery that cannot work (bad peer id, port, TTL, proto). */
export class InvalidDiscoveryOptionsError extends LanspreadError {
  constructor(message: string) {
    super(ErrorCode.InvalidSettings, message);
  }
}

/** What this node announces. */
export interface LocalService {
  peerId: string;
  name: string;
  proto: string;
  port: number;
  ttlSeconds: number;
}

/** A service read from a packet; identity comes from TXT `id`, not the instance name. */
export interface ObservedService {
  peerId: string;
  name: string;
  proto: string;
  port: number;
  /** full instance name, lower case */
  instance: string;
  /** A records of the SRV target found in the same packet (may be empty) */
  addresses: string[];
  /** the smaller of the SRV and TXT TTLs, capped at `LIMITS.ttlSeconds`; never 0 */
  ttlSeconds: number;
}

export interface ParsedResponse {
  services: ObservedService[];
  /** instance names (lower case) whose records came with TTL 0 */
  goodbyes: string[];
  /** instance names announced by PTR without both SRV and TXT here: worth a query */
  unresolved: string[];
  /** services dropped because they carry our own peer id */
  ownAnnouncements: number;
}

export interface QueryMatch {
  /** someone asked for something of ours */
  respond: boolean;
  /** the service type enumeration was asked: add its PTR */
  enumeration: boolean;
  /** the questions that matched, rebuilt from checked fields (echoed in a legacy unicast answer) */
  questions: MdnsQuestion[];
}

export function instanceLabel(peerId: string): string {
  return peerId.slice(0, MAX_LABEL);
}

export function instanceName(peerId: string): string {
  return `${instanceLabel(peerId)}.${SERVICE_TYPE}`;
}

/** SRV target. Unique per node, so no host name probing is needed. */
export function hostName(peerId: string): string {
  return `lanspread-${peerId.slice(0, 32)}.local`;
}

/** Throws `InvalidDiscoveryOptionsError` for anything we could not announce correctly. */
export function validateLocalService(svc: LocalService): void {
  if (!PEER_ID_RE.test(svc.peerId)) throw new InvalidDiscoveryOptionsError('peer id must be 32 to 64 lowercase hex characters');
  if (!Number.isInteger(svc.port) || svc.port < 1 || svc.port > 65535) {
    throw new InvalidDiscoveryOptionsError(`port must be an integer from 1 to 65535, not ${svc.port}`);
  }
  if (!PROTO_RE.test(svc.proto)) throw new InvalidDiscoveryOptionsError('proto must be 1 to 16 of [0-9A-Za-z._-]');
  if (!Number.isInteger(svc.ttlSeconds) || svc.ttlSeconds < 1 || svc.ttlSeconds > LIMITS.ttlSeconds) {
    throw new InvalidDiscoveryOptionsError(`ttlSeconds must be an integer from 1 to ${LIMITS.ttlSeconds}`);
  }
}

/** Remove control and invisible characters, trim, and cut to `LIMITS.nameChars` characters. */
export function sanitizeName(raw: string): string {
  return Array.from(raw.replace(UNSAFE_CHARS, '').trim()).slice(0, LIMITS.nameChars).join('').trim();
}

/**
 * Every record of our service, as announced on the interface with `address`.
 * All go in the answer section (as Avahi does), so one packet resolves us.
 * `ttlSeconds: 0` makes the goodbye.
 */
export function buildAnnouncement(
  svc: LocalService,
  address: string,
  opts: { ttlSeconds?: number; enumeration?: boolean } = {},
): MdnsAnswer[] {
  const ttl = opts.ttlSeconds ?? svc.ttlSeconds;
  const instance = instanceName(svc.peerId);
  const host = hostName(svc.peerId);
  // A TXT string is at most 255 bytes: 64 characters of up to 4 bytes would not fit after "name=".
  let name = sanitizeName(svc.name);
  while (Buffer.byteLength(name) > 250) name = Array.from(name).slice(0, -1).join('');
  const records: MdnsAnswer[] = [
    { name: SERVICE_TYPE, type: 'PTR', class: 'IN', ttl, data: instance },
    { name: instance, type: 'SRV', class: 'IN', flush: true, ttl, data: { port: svc.port, target: host, priority: 0, weight: 0 } },
    { name: instance, type: 'TXT', class: 'IN', flush: true, ttl, data: [`id=${svc.peerId}`, `proto=${svc.proto}`, `name=${name}`] },
    { name: host, type: 'A', class: 'IN', flush: true, ttl, data: address },
  ];
  if (opts.enumeration) records.push({ name: SERVICE_ENUMERATION, type: 'PTR', class: 'IN', ttl, data: SERVICE_TYPE });
  return records;
}

/**
 * The browse query: PTR for our service type, multicast reply asked for (QU bit
 * clear: a unicast reply would reach only one of several sockets on 5353).
 * `known` are instances we hold with more than half their TTL left (RFC 6762
 * section 7.1), so their owners need not answer.
 */
export function buildBrowseQuery(known: Array<{ instance: string; ttlSeconds: number }> = []): mDNS.QueryOutgoingPacket {
  return {
    type: 'query',
    questions: [{ name: SERVICE_TYPE, type: 'PTR', class: 'IN' }],
    answers: known
      .slice(0, LIMITS.knownAnswers)
      .map((k): MdnsAnswer => ({ name: SERVICE_TYPE, type: 'PTR', class: 'IN', ttl: k.ttlSeconds, data: k.instance })),
  };
}

/** Ask for SRV and TXT of instances seen only by their PTR. */
export function buildResolveQuery(instances: string[]): mDNS.QueryOutgoingPacket {
  return {
    type: 'query',
    questions: instances.slice(0, LIMITS.unresolvedPerPacket).flatMap((name): MdnsQuestion[] => [
      { name, type: 'SRV', class: 'IN' },
      { name, type: 'TXT', class: 'IN' },
    ]),
  };
}

/** Does this query ask for anything of ours? Never throws. */
export function matchQuery(packet: unknown, svc: LocalService): QueryMatch {
  const none: QueryMatch = { respond: false, enumeration: false, questions: [] };
  if (!isRecord(packet)) return none;
  const instance = instanceName(svc.peerId).toLowerCase();
  const host = hostName(svc.peerId).toLowerCase();
  let browse = false;
  let direct = false;
  let enumeration = false;
  const questions: MdnsQuestion[] = [];
  for (const q of asArray(packet.questions).slice(0, LIMITS.questionsPerQuery)) {
    if (!isRecord(q) || typeof q.name !== 'string' || typeof q.type !== 'string') continue;
    const name = q.name.toLowerCase();
    const any = q.type === 'ANY';
    // The class is not checked: dns-packet decodes a QU question's class as "UNKNOWN_32769".
    if (name === SERVICE_TYPE && (any || q.type === 'PTR')) browse = true;
    else if (name === instance && (any || q.type === 'SRV' || q.type === 'TXT')) direct = true;
    else if (name === host && (any || q.type === 'A')) direct = true;
    else if (name === SERVICE_ENUMERATION && (any || q.type === 'PTR')) enumeration = true;
    else continue;
    questions.push({ name, type: q.type as MdnsQuestion['type'], class: 'IN' });
  }
  if (browse && !direct && !enumeration) {
    // Known-answer suppression: the asker already holds our PTR with at least half its TTL.
    const known = asArray(packet.answers)
      .slice(0, LIMITS.recordsPerPacket)
      .some(
        (a) =>
          isRecord(a) &&
          a.type === 'PTR' &&
          typeof a.name === 'string' &&
          a.name.toLowerCase() === SERVICE_TYPE &&
          typeof a.data === 'string' &&
          a.data.toLowerCase() === instance &&
          typeof a.ttl === 'number' &&
          a.ttl >= svc.ttlSeconds / 2,
      );
    if (known) return none;
  }
  return { respond: browse || direct || enumeration, enumeration, questions };
}

/** Services, goodbyes and unresolved instances in a received packet. Never throws. */
export function parseResponse(packet: unknown, selfPeerId: string): ParsedResponse {
  const out: ParsedResponse = { services: [], goodbyes: [], unresolved: [], ownAnnouncements: 0 };
  if (!isRecord(packet)) return out;
  const records = [...asArray(packet.answers), ...asArray(packet.additionals)].slice(0, LIMITS.recordsPerPacket);

  const announced = new Set<string>();
  const goodbyes = new Set<string>();
  const srvs = new Map<string, { port: number; target: string; ttl: number }>();
  const txts = new Map<string, { entries: Map<string, string>; ttl: number } | null>();
  const hosts = new Map<string, string[]>();

  for (const r of records) {
    if (!isRecord(r) || typeof r.name !== 'string' || typeof r.type !== 'string') continue;
    const ttl = typeof r.ttl === 'number' && Number.isFinite(r.ttl) && r.ttl >= 0 ? Math.min(r.ttl, LIMITS.ttlSeconds) : undefined;
    if (ttl === undefined) continue;
    const name = r.name.toLowerCase();
    switch (r.type) {
      case 'PTR': {
        if (name !== SERVICE_TYPE || typeof r.data !== 'string') break;
        const target = r.data.toLowerCase();
        if (!isInstanceName(target)) break;
        if (ttl === 0) goodbyes.add(target);
        else announced.add(target);
        break;
      }
      case 'SRV': {
        if (!isInstanceName(name)) break;
        if (ttl === 0) {
          goodbyes.add(name);
          break;
        }
        const d = r.data;
        if (!isRecord(d) || !Number.isInteger(d.port) || (d.port as number) < 1 || (d.port as number) > 65535) break;
        if (typeof d.target !== 'string' || d.target.length === 0 || d.target.length > 255) break;
        if (!srvs.has(name)) srvs.set(name, { port: d.port as number, target: d.target.toLowerCase(), ttl });
        break;
      }
      case 'TXT': {
        if (!isInstanceName(name)) break;
        if (ttl === 0) {
          goodbyes.add(name);
          break;
        }
        // A hostile TXT poisons the instance for this packet (null), a second TXT does not replace the first.
        if (!txts.has(name)) txts.set(name, parseTxt(r.data, ttl));
        break;
      }
      case 'A': {
        if (typeof r.data !== 'string' || !isIPv4(r.data) || ttl === 0) break;
        const list = hosts.get(name) ?? [];
        if (list.length < LIMITS.addressesPerService && !list.includes(r.data)) list.push(r.data);
        hosts.set(name, list);
        break;
      }
    }
  }

  for (const [instance, srv] of srvs) {
    const txt = txts.get(instance);
    if (!txt || goodbyes.has(instance)) continue;
    const service = serviceFrom(instance, srv, txt);
    if (!service) continue;
    service.addresses = hosts.get(srv.target) ?? [];
    if (service.peerId === selfPeerId) {
      out.ownAnnouncements++;
      continue;
    }
    if (out.services.length >= LIMITS.servicesPerPacket) break;
    out.services.push(service);
  }
  out.goodbyes = [...goodbyes].slice(0, LIMITS.servicesPerPacket);
  const ours = instanceName(selfPeerId).toLowerCase();
  out.unresolved = [...announced]
    .filter((i) => i !== ours && !goodbyes.has(i) && !(srvs.has(i) && txts.has(i)))
    .slice(0, LIMITS.unresolvedPerPacket);
  return out;
}

function serviceFrom(
  instance: string,
  srv: { port: number; target: string; ttl: number },
  txt: { entries: Map<string, string>; ttl: number },
): ObservedService | undefined {
  const peerId = txt.entries.get('id');
  const proto = txt.entries.get('proto');
  if (peerId === undefined || !PEER_ID_RE.test(peerId)) return undefined;
  if (proto === undefined || !PROTO_RE.test(proto)) return undefined;
  return {
    peerId,
    name: sanitizeName(txt.entries.get('name') ?? ''),
    proto,
    port: srv.port,
    instance,
    addresses: [],
    ttlSeconds: Math.min(srv.ttl, txt.ttl),
  };
}

/**
 * TXT strings as `key=value` (RFC 6763 section 6): keys are printable ASCII and
 * case-insensitive, the first occurrence wins, values are read as UTF-8 (bad
 * bytes become U+FFFD, which no id or proto accepts). Too big or too many: null.
 */
function parseTxt(data: unknown, ttl: number): { entries: Map<string, string>; ttl: number } | null {
  const raw = Array.isArray(data) ? data : [data];
  if (raw.length > LIMITS.txtEntries) return null;
  let total = 0;
  const entries = new Map<string, string>();
  for (const item of raw) {
    const buf = typeof item === 'string' ? Buffer.from(item) : Buffer.isBuffer(item) ? item : undefined;
    if (!buf) return null;
    total += buf.length + 1;
    if (total > LIMITS.txtBytes) return null;
    const eq = buf.indexOf(0x3d);
    const keyBytes = eq === -1 ? buf : buf.subarray(0, eq);
    if (keyBytes.length === 0 || keyBytes.some((b) => b < 0x20 || b > 0x7e)) continue;
    const key = keyBytes.toString('ascii').toLowerCase();
    if (entries.has(key) || eq === -1) continue;
    entries.set(key, buf.subarray(eq + 1).toString('utf8'));
  }
  return { entries, ttl };
}

/** The address to reach a service on: one of its A records on our subnet, else the packet's source. */
export function pickHost(addresses: string[], source: string, local: { address: string; netmask: string }): string {
  return addresses.find((a) => sameSubnet(a, local.address, local.netmask)) ?? source;
}

export function sameSubnet(a: string, b: string, netmask: string): boolean {
  const x = ipv4ToInt(a);
  const y = ipv4ToInt(b);
  const m = ipv4ToInt(netmask);
  if (x === undefined || y === undefined || m === undefined) return false;
  return (x & m) >>> 0 === (y & m) >>> 0;
}

function ipv4ToInt(ip: string): number | undefined {
  if (!isIPv4(ip)) return undefined;
  return ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function isInstanceName(name: string): boolean {
  return name.length > SERVICE_TYPE.length + 1 && name.endsWith(`.${SERVICE_TYPE}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
