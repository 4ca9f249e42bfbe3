// The chunk scheduler alone (server/runtime/download/scheduler.ts), table-driven:
// each row is a sequence of calls and the answer each must give. No network,
// no files, no timers: which peer gets which chunk, and when the download is
// given up, are decided here and only here.
import { describe, expect, it } from 'vitest';
import { ChunkScheduler, type Chunk, type ChunkFailure } from '../../../server/runtime/download/scheduler.js';

/** Chunk i is held by the peers in `holders[i]`. */
function chunks(holders: string[][]): Chunk[] {
  return holders.map((peers, index) => ({ index, fileIndex: 0, offset: index * 10, length: 10, sha256: `h${index}`, peers }));
}

type Step =
  /** `next(peer)` hands out chunk `expect` (its index), or nothing */
  | ['next', string, number | null]
  | ['complete', number, string]
  | ['fail', number, string, ChunkFailure]
  | ['gone', string]
  /** `resetRetries(live)` releases `expect` chunks */
  | ['reset', string[], number]
  /** `blocked(live)` is null, or matches */
  | ['blocked', string[], RegExp | null]
  | ['banned', string, boolean]
  | ['finished', boolean];

interface Row {
  rule: string;
  holders: string[][];
  slots?: number;
  maxAttempts?: number;
  steps: Step[];
}

const rows: Row[] = [
  {
    rule: 'work stealing: each peer takes the next chunk it has, in order, up to its slots',
    holders: [['A', 'B'], ['A', 'B'], ['A', 'B'], ['A', 'B'], ['B']],
    slots: 2,
    steps: [
      ['next', 'A', 0],
      ['next', 'B', 1],
      ['next', 'A', 2],
      ['next', 'A', null], // chunk 3 is pending and A has it, but both of A's slots are busy
      ['next', 'B', 3],
      ['next', 'B', null],
      ['complete', 0, 'A'],
      ['next', 'A', null], // chunk 4 is pending, but only B has it
      ['complete', 3, 'B'],
      ['next', 'B', 4],
      ['complete', 4, 'B'],
      ['complete', 1, 'B'],
      ['finished', false],
      ['complete', 2, 'A'],
      ['finished', true],
    ],
  },
  {
    rule: 'a corrupt chunk bans its peer: it gets nothing more, and the chunk goes to another',
    holders: [
      ['A', 'B'],
      ['A', 'B'],
    ],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'corrupt'],
      ['banned', 'A', true],
      ['next', 'A', null], // chunk 1 is pending and A has it, but A is banned
      ['next', 'B', 0],
      ['complete', 0, 'B'],
      ['next', 'B', 1],
      ['complete', 1, 'B'],
      ['finished', true],
    ],
  },
  {
    rule: 'a failed request does not ban its peer',
    holders: [['A', 'B'], ['A']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'error'],
      ['banned', 'A', false],
      ['next', 'A', 1],
    ],
  },
  {
    rule: 'a failed chunk never goes back to the same peer while another can take it',
    holders: [
      ['A', 'B'],
      ['A', 'B'],
    ],
    slots: 2,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'error'],
      ['next', 'A', 1], // chunk 0 is first in the queue again, but not for A
      ['next', 'A', null],
      ['next', 'B', 0],
    ],
  },
  {
    rule: 'the attempt cap fails the download, and nothing more is handed out',
    holders: [
      ['A', 'B', 'C'],
      ['A', 'B', 'C'],
    ],
    slots: 1,
    maxAttempts: 2,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'error'],
      ['blocked', ['A', 'B', 'C'], null],
      ['next', 'B', 0],
      ['fail', 0, 'B', 'error'],
      ['blocked', ['A', 'B', 'C'], /^chunk 0 failed 2 times$/],
      ['next', 'C', null],
      ['next', 'A', null],
      ['reset', ['A', 'B', 'C'], 0],
      ['finished', false],
    ],
  },
  {
    rule: 'the retry reset: when every usable peer failed a chunk, they may try it again (and only then)',
    holders: [['A', 'B']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'error'],
      ['reset', ['A', 'B'], 0], // B has not tried it yet
      ['next', 'B', 0],
      ['reset', ['A', 'B'], 0], // nothing while the chunk is in flight
      ['fail', 0, 'B', 'error'],
      ['next', 'A', null],
      ['next', 'B', null],
      ['blocked', ['A', 'B'], null], // not blocked: a reset can still release it
      ['reset', ['A', 'B'], 1],
      ['next', 'A', 0],
      ['complete', 0, 'A'],
      ['finished', true],
    ],
  },
  {
    rule: 'the retry reset counts only usable peers: a gone one does not hold it back',
    holders: [['A', 'B']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'error'],
      ['gone', 'B'],
      ['reset', ['A'], 1],
      ['next', 'A', 0],
    ],
  },
  {
    rule: 'blocked() is a query: asked again and again, it releases nothing',
    holders: [['A', 'B']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'error'],
      ['next', 'B', 0],
      ['fail', 0, 'B', 'error'],
      ['blocked', ['A', 'B'], null],
      ['blocked', ['A', 'B'], null],
      ['next', 'A', null],
      ['next', 'B', null],
    ],
  },
  {
    rule: 'when no live, unbanned peer has a pending chunk, the download is blocked',
    holders: [['A'], ['A', 'B']],
    slots: 1,
    steps: [
      ['next', 'B', 1],
      ['complete', 1, 'B'],
      ['blocked', ['A', 'B'], null],
      ['gone', 'A'],
      ['next', 'A', null],
      ['blocked', ['A', 'B'], /^no peer that has the file is left$/],
      ['blocked', ['B'], /^no peer that has the file is left$/],
    ],
  },
  {
    rule: 'a banned peer does not count as a holder',
    holders: [['A'], ['A', 'B']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'corrupt'],
      ['blocked', ['A', 'B'], /^no peer that has the file is left$/],
    ],
  },
  {
    rule: 'nothing is blocked while a chunk is in flight',
    holders: [['A'], ['B']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['gone', 'B'],
      ['blocked', ['A'], null],
      ['complete', 0, 'A'],
      ['blocked', ['A'], /^no peer that has the file is left$/],
    ],
  },
];

function run(row: Row): void {
  const list = chunks(row.holders);
  const s = new ChunkScheduler(list, { slotsPerPeer: row.slots ?? 2, maxAttempts: row.maxAttempts ?? 5 });
  row.steps.forEach((step, i) => {
    const at = `step ${i}: ${JSON.stringify(step, (_k, v: unknown) => (v instanceof RegExp ? String(v) : v))}`;
    switch (step[0]) {
      case 'next':
        expect(s.next(step[1])?.index ?? null, at).toBe(step[2]);
        break;
      case 'complete':
        s.complete(list[step[1]]!, step[2]);
        break;
      case 'fail':
        s.fail(list[step[1]]!, step[2], step[3]);
        break;
      case 'gone':
        s.peerGone(step[1]);
        break;
      case 'reset':
        expect(s.resetRetries(step[1]), at).toBe(step[2]);
        break;
      case 'blocked': {
        const why = s.blocked(step[1]);
        if (step[2] === null) expect(why, at).toBeNull();
        else expect(why, at).toMatch(step[2]);
        break;
      }
      case 'banned':
        expect(s.isBanned(step[1]), at).toBe(step[2]);
        break;
      case 'finished':
        expect(s.finished, at).toBe(step[1]);
        break;
    }
  });
}

describe('ChunkScheduler', () => {
  it.each(rows.map((r) => [r.rule, r] as const))('%s', (_rule, row) => run(row));

  it('counts the chunks each peer delivered', () => {
    const list = chunks([
      ['A', 'B'],
      ['A', 'B'],
      ['A', 'B'],
    ]);
    const s = new ChunkScheduler(list, { slotsPerPeer: 1, maxAttempts: 5 });
    s.complete(s.next('A')!, 'A');
    s.complete(s.next('B')!, 'B');
    s.complete(s.next('A')!, 'A');
    expect(Object.fromEntries(s.servedBy)).toEqual({ A: 2, B: 1 });
    expect([s.chunksDone, s.finished]).toEqual([3, true]);
  });
});
