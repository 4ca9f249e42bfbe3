// The request loops (server/runtime/download/request-loops.ts) with a fetch
// the test controls: no network, no files. The endgame's races are settled
// here: two copies of one chunk fetched aside that arrive together must not
// wait for each other, and the chunk is written once.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../server/runtime/logger.js';
import { runRequestLoops } from '../../../server/runtime/download/request-loops.js';
import { ChunkScheduler, type Assignment, type Chunk } from '../../../server/runtime/download/scheduler.js';
import type { TransportConnection } from '../../../server/runtime/transport/transport.js';

interface Pending {
  peer: string;
  duplicate: boolean;
  resolve(bytes: Buffer | null): void;
  reject(err: Error): void;
}

describe('request loops', () => {
  it('two copies fetched aside that arrive in the same tick: one is written, the other stands down', async () => {
    const chunk: Chunk = { index: 0, fileIndex: 0, offset: 0, length: 4, sha256: 'x', peers: ['A', 'B', 'C'], global: 0 };
    const scheduler = new ChunkScheduler([chunk], { slotsPerPeer: 1, maxAttempts: 5, endgameAfterMs: 0 });
    const fetches: Pending[] = [];
    const writes: Buffer[] = [];
    let changed = () => {};
    const run = runRequestLoops(scheduler, {
      id: 'alpha',
      peers: () => ['A', 'B', 'C'],
      slotsPerPeer: 1,
      busyLimitMs: 15_000,
      connectionFor: () => ({}) as TransportConnection,
      signal: new AbortController().signal,
      logger: silentLogger,
      onSourcesChanged: (l) => ((changed = l), () => undefined),
      // as a real fetch: an abort ends it while it runs; one that has returned does not see a later abort
      fetch: (a: Assignment, peer, _connection, signal) =>
        new Promise<Buffer | null>((resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
          fetches.push({ peer, duplicate: a.duplicate, resolve, reject });
        }),
      write: async (_c, bytes) => {
        writes.push(bytes);
      },
      completed: () => undefined,
    });
    const until = async (n: number) => {
      for (let i = 0; i < 200 && fetches.length < n; i++) await new Promise((r) => setTimeout(r, 5));
      expect(fetches.length).toBe(n);
    };
    await until(2); // A fetches it, B a second copy aside
    expect(fetches.map((f) => [f.peer, f.duplicate])).toEqual([
      ['A', false],
      ['B', true],
    ]);
    fetches[0]!.reject(new Error('A failed')); // A drops out: C may take a second copy of B's
    changed();
    await until(3);
    expect(fetches[2]).toMatchObject({ peer: 'C', duplicate: true });
    fetches[1]!.resolve(Buffer.from('good'));
    fetches[2]!.resolve(Buffer.from('good'));
    await run; // before the claim, each copy waited for the other to stop: this never settled
    expect(writes).toHaveLength(1);
    expect(scheduler.finished).toBe(true);
  });
});
