import { describe, expect, it } from 'vitest';
import { NO_ROUTE, connectionIdKey, newConnectionId, routeKey } from '../../../server/runtime/transport/connection-id.js';

describe('connection id routing', () => {
  const id = Buffer.from('0102030405060708090a0b0c0d0e0f1011121314', 'hex');

  it('reads our id from a short-header packet', () => {
    const pkt = Buffer.concat([Buffer.from([0x40]), id, Buffer.alloc(30)]);
    expect(routeKey(pkt)).toBe(connectionIdKey(id));
    expect(routeKey(pkt)).toBe(0x010203040506);
  });

  it('reads the length-prefixed id from a long-header packet', () => {
    const pkt = Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, 20]), id, Buffer.alloc(1200)]);
    expect(routeKey(pkt)).toBe(connectionIdKey(id));
  });

  it('finds no route in packets too short or with impossible ids', () => {
    expect(routeKey(Buffer.alloc(0))).toBe(NO_ROUTE);
    expect(routeKey(Buffer.from([0x40, 1, 2, 3]))).toBe(NO_ROUTE);
    expect(routeKey(Buffer.from([0xc0, 0, 0, 0, 1, 4, 1, 2, 3, 4, 5, 6, 7]))).toBe(NO_ROUTE);
    expect(routeKey(Buffer.from([0xc0, 0, 0, 0, 1, 200, ...Buffer.alloc(300)]))).toBe(NO_ROUTE);
    expect(routeKey(Buffer.from([0xc0, 0, 0, 0, 1, 20, 1, 2, 3, 4, 5, 6]))).toBe(NO_ROUTE);
  });

  it('keys the full 48-bit prefix exactly', () => {
    expect(connectionIdKey(Buffer.from('ffffffffffff', 'hex'))).toBe(2 ** 48 - 1);
    expect(connectionIdKey(Buffer.from('800000000001', 'hex'))).toBe(2 ** 47 + 1);
  });

  it('issues ids whose keys are not taken', () => {
    const taken = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const { id: fresh, key } = newConnectionId(taken);
      expect(fresh.length).toBe(20);
      expect(key).toBe(connectionIdKey(fresh));
      expect(taken.has(key)).toBe(false);
      taken.add(key);
    }
    // A table that says everything but one key is taken forces a retry until it is found.
    let calls = 0;
    const picky = { has: () => ++calls < 50 };
    newConnectionId(picky);
    expect(calls).toBe(50);
  });
});
