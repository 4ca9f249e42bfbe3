// The pure mDNS record code: what we announce survives the wire and parses back;
// our own announcements, goodbyes and hostile packets are handled and bounded.
// Packets go through dns-packet (what multicast-dns decodes with) where the wire matters.
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { MdnsDiscovery } from '../../../server/runtime/discovery/index.js';
import {
  InvalidDiscoveryOptionsError,
  LIMITS,
  PEER_ID_RE,
  SERVICE_ENUMERATION,
  SERVICE_TYPE,
  buildAnnouncement,
  buildBrowseQuery,
  buildResolveQuery,
  hostName,
  instanceName,
  matchQuery,
  parseResponse,
  pickHost,
  sameSubnet,
  sanitizeName,
  validateLocalService,
  type LocalService,
  type MdnsAnswer,
} from '../../../server/runtime/discovery/mdns-records.js';

const A_ID = 'a'.repeat(32);
const B_ID = '0123456789abcdef0123456789abcdef';
const svc = (over: Partial<LocalService> = {}): LocalService => ({
  peerId: B_ID,
  name: 'Bob',
  proto: '1',
  port: 7421,
  ttlSeconds: 120,
  ...over,
});

/** Encode and decode like a packet that crossed the network. */
function wire(answers: MdnsAnswer[], additionals: MdnsAnswer[] = []): unknown {
  return dnsPacket.decode(dnsPacket.encode({ type: 'response', answers, additionals } as dnsPacket.Packet));
}

const srv = (instance: string, port: unknown, ttl = 120): MdnsAnswer =>
  ({ name: instance, type: 'SRV', ttl, data: { port, target: 'host.local' } }) as MdnsAnswer;
const txt = (instance: string, entries: Array<string | Buffer>, ttl = 120): MdnsAnswer => ({
  name: instance,
  type: 'TXT',
  ttl,
  data: entries,
});
const ptr = (instance: string, ttl = 120): MdnsAnswer => ({ name: SERVICE_TYPE, type: 'PTR', ttl, data: instance });
const service = (label: string, id: string, port: unknown = 7000, extra: string[] = ['proto=1', 'name=x']) => [
  ptr(`${label}.${SERVICE_TYPE}`),
  srv(`${label}.${SERVICE_TYPE}`, port),
  txt(`${label}.${SERVICE_TYPE}`, [`id=${id}`, ...extra]),
];

describe('announcement records', () => {
  it('round-trip through the wire into the service they describe', () => {
    const parsed = parseResponse(wire(buildAnnouncement(svc(), '10.0.0.7')), A_ID);
    expect(parsed.services).toEqual([
      { peerId: B_ID, name: 'Bob', proto: '1', port: 7421, instance: instanceName(B_ID), addresses: ['10.0.0.7'], ttlSeconds: 120 },
    ]);
    expect(parsed.goodbyes).toEqual([]);
    expect(parsed.unresolved).toEqual([]);
  });

  it('carry a 64-character peer id whole in TXT though the instance label is cut to 63 bytes', () => {
    const id = 'f'.repeat(64);
    const answers = buildAnnouncement(svc({ peerId: id }), '10.0.0.7');
    const decoded = wire(answers) as { answers: Array<{ name: string }> };
    expect(decoded.answers[1]!.name.split('.')[0]).toHaveLength(63);
    expect(parseResponse(decoded, A_ID).services[0]?.peerId).toBe(id);
  });

  it('keep a long multi-byte name inside one TXT string (255 bytes)', () => {
    const answers = buildAnnouncement(svc({ name: '🎮'.repeat(100) }), '10.0.0.7');
    const decoded = wire(answers) as { answers: Array<{ type: string; data: Buffer[] }> };
    const nameEntry = decoded.answers.find((a) => a.type === 'TXT')!.data.find((b) => b.toString().startsWith('name='))!;
    expect(nameEntry.length).toBeLessThanOrEqual(255);
    expect(parseResponse(decoded, A_ID).services[0]?.name).toBe('🎮'.repeat(nameEntry.subarray(5).length / 4));
  });

  it('with TTL 0 make a goodbye, not a service', () => {
    const parsed = parseResponse(wire(buildAnnouncement(svc(), '10.0.0.7', { ttlSeconds: 0 })), A_ID);
    expect(parsed.services).toEqual([]);
    expect(parsed.goodbyes).toEqual([instanceName(B_ID)]);
  });

  it('a goodbye is understood from the PTR, the SRV or the TXT alone', () => {
    const inst = instanceName(B_ID);
    for (const bye of [ptr(inst, 0), srv(inst, 7000, 0), txt(inst, [`id=${B_ID}`, 'proto=1'], 0)]) {
      expect(parseResponse(wire([bye]), A_ID).goodbyes, bye.type).toEqual([inst]);
    }
  });

  it('add the service type enumeration PTR only when asked', () => {
    expect(buildAnnouncement(svc(), '10.0.0.7').some((r) => r.name === SERVICE_ENUMERATION)).toBe(false);
    expect(buildAnnouncement(svc(), '10.0.0.7', { enumeration: true }).some((r) => r.name === SERVICE_ENUMERATION)).toBe(true);
  });

  it('refuse options that cannot be announced', () => {
    for (const bad of [
      { peerId: 'ABC' },
      { peerId: 'a'.repeat(65) },
      { port: 0 },
      { port: 70000 },
      { port: 1.5 },
      { proto: 'a b' },
      { ttlSeconds: 0 },
    ]) {
      expect(() => validateLocalService(svc(bad as Partial<LocalService>)), JSON.stringify(bad)).toThrow(InvalidDiscoveryOptionsError);
    }
    expect(() => new MdnsDiscovery({ peerId: 'not-hex', name: 'x', port: 1 })).toThrow(InvalidDiscoveryOptionsError);
  });
});

describe('our own announcement', () => {
  it('is not a discovered service', () => {
    const parsed = parseResponse(wire(buildAnnouncement(svc(), '10.0.0.7')), B_ID);
    expect(parsed.services).toEqual([]);
    expect(parsed.ownAnnouncements).toBe(1);
    expect(parsed.unresolved).toEqual([]);
  });
});

describe('queries', () => {
  it('the browse query asks for a multicast answer (QU bit clear)', () => {
    const bytes = dnsPacket.encode(buildBrowseQuery() as dnsPacket.Packet);
    // header (12) + name + type (2): the class follows; its top bit is QU.
    const classOffset = 12 + SERVICE_TYPE.length + 2 + 2;
    expect(bytes.readUInt16BE(classOffset)).toBe(0x0001);
  });

  it('we answer questions about our service type, instance, host and the type enumeration, nothing else', () => {
    const q = (name: string, type: string) =>
      dnsPacket.decode(dnsPacket.encode({ type: 'query', questions: [{ name, type }] } as dnsPacket.Packet));
    expect(matchQuery(q(SERVICE_TYPE, 'PTR'), svc()).respond).toBe(true);
    expect(matchQuery(q('_LANSPREAD._udp.local', 'ANY'), svc()).respond).toBe(true);
    expect(matchQuery(q(instanceName(B_ID), 'SRV'), svc()).respond).toBe(true);
    expect(matchQuery(q(instanceName(B_ID), 'TXT'), svc()).respond).toBe(true);
    expect(matchQuery(q(hostName(B_ID), 'A'), svc()).respond).toBe(true);
    expect(matchQuery(q(SERVICE_ENUMERATION, 'PTR'), svc())).toMatchObject({ respond: true, enumeration: true });
    expect(matchQuery(q('_http._tcp.local', 'PTR'), svc()).respond).toBe(false);
    expect(matchQuery(q(instanceName(A_ID), 'SRV'), svc()).respond).toBe(false);
    expect(matchQuery(q(hostName(B_ID), 'AAAA'), svc()).respond).toBe(false);
  });

  it('known-answer suppression: no answer when the asker holds our PTR with half its TTL or more', () => {
    const known = (ttl: number) => ({
      type: 'query',
      questions: [{ name: SERVICE_TYPE, type: 'PTR' }],
      answers: [ptr(instanceName(B_ID), ttl)],
    });
    const decode = (p: object) => dnsPacket.decode(dnsPacket.encode(p as dnsPacket.Packet));
    expect(matchQuery(decode(known(60)), svc()).respond).toBe(false);
    expect(matchQuery(decode(known(59)), svc()).respond).toBe(true);
    expect(matchQuery(decode(buildBrowseQuery([{ instance: instanceName(B_ID), ttlSeconds: 100 }])), svc()).respond).toBe(false);
    expect(matchQuery(decode(buildBrowseQuery([{ instance: instanceName(A_ID), ttlSeconds: 100 }])), svc()).respond).toBe(true);
  });

  it('a browse query carries at most LIMITS.knownAnswers known answers', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ instance: `${i}.${SERVICE_TYPE}`, ttlSeconds: 100 }));
    expect(buildBrowseQuery(many).answers).toHaveLength(LIMITS.knownAnswers);
  });
});

describe('services from other responders', () => {
  it('reads an Avahi-style packet (everything in answers, no name, A and AAAA)', () => {
    const inst = `published.${SERVICE_TYPE}`;
    const parsed = parseResponse(
      wire([
        { name: inst, type: 'TXT', ttl: 4500, flush: true, data: [`id=${B_ID}`, 'proto=1'] },
        ptr(inst, 4500),
        { name: inst, type: 'SRV', ttl: 120, flush: true, data: { priority: 0, weight: 0, port: 4568, target: 'lsavahi.local' } },
        { name: 'lsavahi.local', type: 'AAAA', ttl: 120, data: 'fe80::1' },
        { name: 'lsavahi.local', type: 'A', ttl: 120, data: '10.77.0.2' },
      ]),
      A_ID,
    );
    expect(parsed.services).toEqual([
      { peerId: B_ID, name: '', proto: '1', port: 4568, instance: inst, addresses: ['10.77.0.2'], ttlSeconds: 120 },
    ]);
  });

  it('a PTR without SRV and TXT is unresolved, and asked about with SRV and TXT questions', () => {
    const parsed = parseResponse(wire([ptr(`lonely.${SERVICE_TYPE}`)]), A_ID);
    expect(parsed.services).toEqual([]);
    expect(parsed.unresolved).toEqual([`lonely.${SERVICE_TYPE}`]);
    expect(buildResolveQuery(parsed.unresolved).questions).toEqual([
      { name: `lonely.${SERVICE_TYPE}`, type: 'SRV', class: 'IN' },
      { name: `lonely.${SERVICE_TYPE}`, type: 'TXT', class: 'IN' },
    ]);
  });

  it('the host is an A record on our subnet, else the packet source', () => {
    const local = { address: '10.77.1.5', netmask: '255.255.255.0' };
    expect(pickHost(['192.168.9.9', '10.77.1.9'], '10.77.1.2', local)).toBe('10.77.1.9');
    expect(pickHost(['192.168.9.9'], '10.77.1.2', local)).toBe('10.77.1.2');
    expect(pickHost([], '10.77.1.2', local)).toBe('10.77.1.2');
    expect(sameSubnet('10.77.1.200', '10.77.1.5', '255.255.255.0')).toBe(true);
    expect(sameSubnet('10.77.2.200', '10.77.1.5', '255.255.255.0')).toBe(false);
    expect(sameSubnet('not an ip', '10.77.1.5', '255.255.255.0')).toBe(false);
  });
});

describe('hostile packets are bounded or ignored, never thrown on', () => {
  it('a huge TXT record (too many bytes or too many strings) is ignored', () => {
    const inst = `big.${SERVICE_TYPE}`;
    const big = [
      ptr(inst),
      srv(inst, 7000),
      txt(inst, [`id=${B_ID}`, 'proto=1', ...Array.from({ length: 8 }, () => `pad=${'x'.repeat(240)}`)]),
    ];
    expect(parseResponse(wire(big), A_ID).services).toEqual([]);
    const many = [
      ptr(inst),
      srv(inst, 7000),
      txt(inst, [`id=${B_ID}`, 'proto=1', ...Array.from({ length: LIMITS.txtEntries }, (_, i) => `k${i}=v`)]),
    ];
    expect(parseResponse(wire(many), A_ID).services).toEqual([]);
    // just under both limits still parses
    const fits = [
      ptr(inst),
      srv(inst, 7000),
      txt(inst, [`id=${B_ID}`, 'proto=1', ...Array.from({ length: 4 }, () => `pad=${'x'.repeat(240)}`)]),
    ];
    expect(parseResponse(wire(fits), A_ID).services).toHaveLength(1);
  });

  it('thousands of records: only the first LIMITS.recordsPerPacket are read, at most LIMITS.servicesPerPacket services kept', () => {
    const flood = Array.from({ length: 3000 }, (_, i) => service(`s${i}`, i.toString(16).padStart(32, '0'))).flat();
    const parsed = parseResponse(wire(flood), A_ID);
    expect(parsed.services).toHaveLength(LIMITS.servicesPerPacket);
    expect(parsed.unresolved.length).toBeLessThanOrEqual(LIMITS.unresolvedPerPacket);
    // A valid service after 256 junk records is not looked at.
    const junk = Array.from(
      { length: LIMITS.recordsPerPacket },
      (_, i) => ({ name: `j${i}.local`, type: 'A', ttl: 1, data: '10.0.0.1' }) as MdnsAnswer,
    );
    expect(parseResponse({ answers: [...junk, ...service('late', B_ID)] }, A_ID).services).toEqual([]);
    expect(parseResponse({ answers: service('early', B_ID), additionals: junk }, A_ID).services).toHaveLength(1);
    // goodbyes too
    const byes = Array.from({ length: 200 }, (_, i) => srv(`g${i}.${SERVICE_TYPE}`, 7000, 0));
    expect(parseResponse(wire(byes), A_ID).goodbyes).toHaveLength(LIMITS.servicesPerPacket);
  });

  it('wrong shapes and types are skipped', () => {
    const inst = `w.${SERVICE_TYPE}`;
    const shapes = [
      null,
      undefined,
      42,
      'x',
      [],
      { answers: 'no' },
      { answers: [null, 1, 'a', [], {}] },
      { answers: [{ name: 5, type: 'SRV', ttl: 120, data: { port: 7000, target: 'h.local' } }] },
      { answers: [{ name: inst, type: 7, ttl: 120, data: { port: 7000, target: 'h.local' } }] },
      { questions: [null, { name: 5, type: 'PTR' }, { name: SERVICE_TYPE, type: 12 }], answers: [{ name: inst, ttl: 120 }] },
    ];
    for (const p of shapes) {
      expect(parseResponse(p, A_ID)).toEqual({ services: [], goodbyes: [], unresolved: [], ownAnnouncements: 0 });
      expect(matchQuery(p, svc()).respond).toBe(false);
    }
    const weird: unknown[] = [
      { name: inst, type: 'SRV', ttl: 120, data: 'not an object' },
      { name: inst, type: 'SRV', ttl: 120, data: { port: 7000, target: 42 } },
      { name: inst, type: 'TXT', ttl: 120, data: 12345 },
      { name: inst, type: 'TXT', ttl: 120, data: [{ not: 'a buffer' }] },
      { name: SERVICE_TYPE, type: 'PTR', ttl: 120, data: { x: 1 } },
      { name: 'h.local', type: 'A', ttl: 120, data: 'not-an-ip' },
      { name: inst, type: 'SRV', ttl: -1, data: { port: 7000, target: 'h.local' } },
      { name: inst, type: 'SRV', ttl: Number.NaN, data: { port: 7000, target: 'h.local' } },
      { name: inst, type: 'SRV', ttl: '120', data: { port: 7000, target: 'h.local' } },
    ];
    expect(() => parseResponse({ answers: weird }, A_ID)).not.toThrow();
    expect(parseResponse({ answers: weird }, A_ID).services).toEqual([]);
    // The same SRV (or TXT) with a PTR record type's data: a type mix-up is not a service.
    expect(parseResponse({ answers: [srv(inst, 7000), { name: inst, type: 'PTR', ttl: 120, data: `id=${B_ID}` }] }, A_ID).services).toEqual(
      [],
    );
  });

  it('bad ports are ignored', () => {
    for (const port of [0, -1, 65536, 1.5, '80', null]) {
      expect(parseResponse({ answers: service('p', B_ID, port) }, A_ID).services, String(port)).toEqual([]);
    }
    expect(parseResponse({ answers: service('p', B_ID, 65535) }, A_ID).services).toHaveLength(1);
  });

  it('bad peer ids are ignored', () => {
    for (const id of ['', 'A'.repeat(32), 'a'.repeat(31), 'a'.repeat(65), 'g'.repeat(32), ` ${'a'.repeat(32)}`, `${'a'.repeat(32)}\n`]) {
      expect(parseResponse(wire(service('i', id)), A_ID).services, JSON.stringify(id)).toEqual([]);
    }
    expect(parseResponse(wire(service('i', 'a'.repeat(64))), B_ID).services).toHaveLength(1);
    // no id at all, or an id that is not UTF-8 (decoded with U+FFFD, which is not hex)
    expect(parseResponse(wire([srv(`n.${SERVICE_TYPE}`, 7000), txt(`n.${SERVICE_TYPE}`, ['proto=1'])]), A_ID).services).toEqual([]);
    const notUtf8 = Buffer.concat([Buffer.from('id='), Buffer.from([0xff, 0xfe])]);
    expect(parseResponse(wire([srv(`u.${SERVICE_TYPE}`, 7000), txt(`u.${SERVICE_TYPE}`, [notUtf8, 'proto=1'])]), A_ID).services).toEqual(
      [],
    );
  });

  it('bad or missing proto is ignored', () => {
    for (const proto of ['proto=', 'proto=a b', `proto=${'1'.repeat(17)}`, 'proto=1;rm', 'other=1']) {
      expect(parseResponse(wire(service('q', B_ID, 7000, [proto])), A_ID).services, proto).toEqual([]);
    }
  });

  it('names lose control and invisible characters and are cut to LIMITS.nameChars', () => {
    const parsed = parseResponse(wire(service('c', B_ID, 7000, ['proto=1', 'name=\u001b[31mevil\u0007\u202e\u0000 box\u009b'])), A_ID);
    expect(parsed.services[0]?.name).toBe('[31mevil box');
    const long = parseResponse(wire(service('l', B_ID, 7000, ['proto=1', `name=${'n'.repeat(200)}`])), A_ID);
    expect(long.services[0]?.name).toBe('n'.repeat(LIMITS.nameChars));
    expect(sanitizeName('\u0000\u0001')).toBe('');
  });

  it('the first TXT key wins and keys are case-insensitive', () => {
    const inst = `k.${SERVICE_TYPE}`;
    const parsed = parseResponse(wire([srv(inst, 7000), txt(inst, [`ID=${B_ID}`, `id=${'c'.repeat(32)}`, 'proto=1'])]), A_ID);
    expect(parsed.services[0]?.peerId).toBe(B_ID);
  });

  it('a TTL beyond LIMITS.ttlSeconds is cut to it', () => {
    const inst = `t.${SERVICE_TYPE}`;
    const parsed = parseResponse(wire([srv(inst, 7000, 2 ** 31), txt(inst, [`id=${B_ID}`, 'proto=1'], 2 ** 31)]), A_ID);
    expect(parsed.services[0]?.ttlSeconds).toBe(LIMITS.ttlSeconds);
  });

  it('randomly damaged announcements never throw and never yield an invalid service', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const good = dnsPacket.encode({ type: 'response', answers: buildAnnouncement(svc(), '10.0.0.7') } as dnsPacket.Packet);
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(good);
      for (let n = 1 + Math.floor(rand() * 6); n > 0; n--) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      let p: unknown;
      try {
        p = dnsPacket.decode(buf);
      } catch {
        continue; // multicast-dns drops these with a `warning`
      }
      decoded++;
      const parsed = parseResponse(p, A_ID);
      matchQuery(p, svc());
      for (const s of parsed.services) {
        expect(s.peerId).toMatch(PEER_ID_RE);
        expect(s.port).toBeGreaterThanOrEqual(1);
        expect(s.port).toBeLessThanOrEqual(65535);
        expect(s.name).toBe(sanitizeName(s.name));
        expect(s.ttlSeconds).toBeGreaterThan(0);
      }
    }
    expect(decoded).toBeGreaterThan(100);
  });
});
