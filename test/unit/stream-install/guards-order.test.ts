// The sender's transfer guards and the receiver's choice and order of peers
// (server/runtime/stream-install/transfer-guards.ts, peer-order.ts).
import { describe, expect, it } from 'vitest';
import { TransferGuards } from '../../../server/runtime/stream-install/transfer-guards.js';
import { orderSenders, validatedPeers } from '../../../server/runtime/stream-install/peer-order.js';

const file = (path: string, peers: string[]) => ({ path, size: 1, chunkSize: 65_536, sha256: [], peers });

describe('transfer guards', () => {
  it('allows one transfer per game by default, refuses the next with busy, and frees the slot on release', () => {
    const guards = new TransferGuards();
    const release = guards.acquire('alpha');
    expect(() => guards.acquire('alpha')).toThrow(expect.objectContaining({ code: 'busy' }));
    const other = guards.acquire('bravo');
    expect([guards.active('alpha'), guards.active()]).toEqual([1, 2]);
    release();
    release(); // idempotent: a double release must not free someone else's slot
    expect([guards.active('alpha'), guards.active()]).toEqual([0, 1]);
    guards.acquire('alpha');
    other();
    expect(guards.active()).toBe(1);
  });

  it('bounds the transfers of all games together', () => {
    const guards = new TransferGuards(1, 2);
    guards.acquire('a');
    guards.acquire('b');
    expect(() => guards.acquire('c')).toThrow(expect.objectContaining({ code: 'busy' }));
  });
});

describe('peer choice', () => {
  it('only peers that agree with the majority on every file are validated', () => {
    const plan = { dirs: [], rejected: [], files: [file('a.eti', ['p1', 'p2', 'p3']), file('version.ini', ['p1', 'p3'])] };
    expect(validatedPeers(plan).sort()).toEqual(['p1', 'p3']);
    expect(validatedPeers({ dirs: [], rejected: [], files: [] })).toEqual([]);
  });

  it('one receiver always asks in the same order; receivers spread over the senders', () => {
    const peers = ['p1', 'p2', 'p3'];
    expect(orderSenders('me', 'alpha', peers)).toEqual(orderSenders('me', 'alpha', [...peers].reverse()));
    expect(orderSenders('me', 'alpha', peers).sort()).toEqual(peers);
    const firsts = new Set(Array.from({ length: 30 }, (_, i) => orderSenders(`receiver-${i}`, 'alpha', peers)[0]));
    expect(firsts.size).toBe(3);
  });
});
