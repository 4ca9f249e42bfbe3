import { describe, expect, it } from 'vitest';
import { StreamIds } from '../../../server/runtime/transport/stream-ids.js';

describe('stream ids', () => {
  it('numbers local bidirectional streams by role', () => {
    const client = new StreamIds(true);
    const server = new StreamIds(false);
    expect([client.takeLocal(), client.takeLocal(), client.peekLocal()]).toEqual([0, 4, 8]);
    expect([server.takeLocal(), server.takeLocal()]).toEqual([1, 5]);
    expect([client.isRemote(1), client.isRemote(4), client.isRemote(3)]).toEqual([true, false, false]);
    expect([server.isRemote(0), server.isRemote(1), server.isRemote(2)]).toEqual([true, false, false]);
  });

  it('takes peer streams opened out of order as new exactly once', () => {
    const ids = new StreamIds(false);
    expect(ids.markRemoteSeen(8)).toBe(true);
    expect(ids.markRemoteSeen(0)).toBe(true);
    expect(ids.markRemoteSeen(4)).toBe(true);
    for (const id of [0, 4, 8]) expect(ids.markRemoteSeen(id)).toBe(false);
    expect(ids.markRemoteSeen(12)).toBe(true);
  });
});
