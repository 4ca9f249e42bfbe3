// The chunk scheduler alone (server/runtime/download/scheduler.ts), table-driven:
// each row is a sequence of calls and the answer each must give. No network,
// no files, no timers: which peer gets which chunk (rarest first, swarm
// have-sets, the endgame), and when the download is given up, are decided
// here and only here.
import { describe, expect, it } from 'vitest';
import { Bitfield } from '../../../server/runtime/swarm/bitfield.js';
import { ChunkScheduler, type Chunk, type ChunkFailure } from '../../../server/runtime/download/scheduler.js';

/** Chunk i is held by the peers in `holders[i]`. */
function chunks(holders: string[][]): Chunk[] {
  return holders.map((peers, index) => ({
    index,
    fileIndex: 0,
    offset: index * 10,
    length: 10,
    sha256: `h${index}`,
    peers,
    global: index,
  }));
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
  /** a swarm peer's have-set: these chunk indices */
  | ['have', string, number[]]
  /** `next(peer)` hands out a second copy of chunk `expect` (the endgame), or nothing */
  | ['dup', string, number | null]
  /** `complete` says whether this copy was the first */
  | ['first', number, string, boolean]
  | ['cancel', number, string]
  /** the clock moves to this many ms */
  | ['clock', number]
  | ['finished', boolean];

interface Row {
  rule: string;
  holders: string[][];
  slots?: number;
  maxAttempts?: number;
  /** what every random draw returns (default 0.99: ties go to the first) */
  random?: number;
  steps: Step[];
}

const rows: Row[] = [
  {
    rule: 'rarest first, then work stealing: each peer takes the rarest chunk it has (the first of equals here), up to its slots',
    holders: [['A', 'B'], ['A', 'B'], ['A', 'B'], ['A', 'B'], ['B']],
    slots: 2,
    steps: [
      ['next', 'A', 0],
      ['next', 'B', 4], // only B has chunk 4: the rarest goes first
      ['next', 'A', 1],
      ['next', 'A', null], // chunks 2 and 3 are pending and A has them, but both of A's slots are busy
      ['next', 'B', 2],
      ['next', 'B', null],
      ['complete', 0, 'A'],
      ['next', 'A', 3],
      ['complete', 4, 'B'],
      ['complete', 2, 'B'],
      ['complete', 1, 'A'],
      ['finished', false],
      ['complete', 3, 'A'],
      ['finished', true],
    ],
  },
  {
    rule: 'ties between equally rare chunks are drawn at random (a draw that always replaces picks the last)',
    holders: [['A'], ['A'], ['A']],
    slots: 3,
    random: 0,
    steps: [
      ['next', 'A', 2],
      ['next', 'A', 1],
      ['next', 'A', 0],
    ],
  },
  {
    rule: 'a swarm peer holds what its have-set says, and its holdings count towards rarity',
    holders: [['S'], ['S'], ['S']],
    slots: 3,
    steps: [
      ['have', 'P', [0, 2]],
      ['next', 'P', 0],
      ['next', 'P', 2],
      ['next', 'P', null], // P lacks chunk 1
      ['next', 'S', 1], // chunk 1: only S has it, the rarest
    ],
  },
  {
    rule: 'a seed is not asked for what a swarm peer holds (until that peer is gone); the endgame may still ask it',
    holders: [['S'], ['S']],
    slots: 1,
    steps: [
      ['have', 'P', [0]],
      ['next', 'S', 1],
      ['next', 'P', 0],
      ['complete', 1, 'S'],
      ['clock', 1000],
      ['dup', 'S', 0], // endgame: a second copy of chunk 0 from the seed
    ],
  },
  {
    rule: 'once the swarm peer is gone, the seed serves its chunk again',
    holders: [['S'], ['S']],
    slots: 2,
    steps: [
      ['have', 'P', [0]],
      ['next', 'S', 1],
      ['next', 'S', null],
      ['gone', 'P'],
      ['next', 'S', 0],
    ],
  },
  {
    rule: 'a have-set update replaces the previous one, and a gone peer no longer counts towards rarity',
    holders: [['S'], ['S']],
    slots: 1,
    steps: [
      ['have', 'P', [0]],
      ['have', 'P', [1]], // chunk 0 is rare again, chunk 1 held twice
      ['next', 'S', 0],
      ['complete', 0, 'S'],
      ['have', 'Q', [1]],
      ['gone', 'P'],
      ['gone', 'Q'],
      ['blocked', ['S'], null],
      ['next', 'Q', null],
      ['next', 'S', 1],
    ],
  },
  {
    rule: 'endgame: with nothing pending an idle peer takes a second copy of a chunk in flight for a second; the first verified copy wins',
    holders: [['A', 'B', 'C']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['clock', 999],
      ['dup', 'B', null], // in flight for under a second: no copy yet
      ['clock', 1000],
      ['dup', 'B', 0],
      ['dup', 'C', null], // two copies at most
      ['first', 0, 'B', true],
      ['dup', 'C', null],
      ['dup', 'B', null], // done: no copy of a finished chunk, though A is still on it
      ['first', 0, 'A', false],
      ['finished', true],
    ],
  },
  {
    rule: 'the losing copy is cancelled without a failure, and its chunk is not queued again',
    holders: [
      ['A', 'B'],
      ['A', 'B'],
    ],
    slots: 1,
    maxAttempts: 1,
    steps: [
      ['next', 'A', 0],
      ['next', 'B', 1],
      ['first', 1, 'B', true],
      ['clock', 1000],
      ['dup', 'B', 0],
      ['first', 0, 'B', true],
      ['cancel', 0, 'A'],
      ['banned', 'A', false],
      ['next', 'A', null],
      ['blocked', ['A', 'B'], null],
      ['finished', true],
    ],
  },
  {
    rule: 'busy is no failure: the chunk goes back, to the same peer too, and no attempt is counted',
    holders: [['A']],
    slots: 1,
    maxAttempts: 2,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'busy'],
      ['next', 'A', 0],
      ['fail', 0, 'A', 'busy'],
      ['next', 'A', 0],
      ['fail', 0, 'A', 'busy'],
      ['blocked', ['A'], null],
      ['next', 'A', 0],
    ],
  },
  {
    rule: 'a declined chunk (the seed sends it elsewhere) is not offered to that peer for a moment, and costs no attempt',
    holders: [['S'], ['S']],
    slots: 2,
    maxAttempts: 1,
    steps: [
      ['next', 'S', 0],
      ['fail', 0, 'S', 'declined'],
      ['next', 'S', 1], // another chunk at once
      ['next', 'S', null], // chunk 0 is declined for 1 s
      ['clock', 999],
      ['next', 'S', null],
      ['clock', 1001],
      ['next', 'S', 0],
    ],
  },
  {
    rule: 'a chunk a swarm peer turns out not to hold is taken out of its have-set, without an attempt',
    holders: [['S']],
    slots: 1,
    maxAttempts: 1,
    steps: [
      ['have', 'P', [0]],
      ['next', 'P', 0],
      ['fail', 0, 'P', 'unavailable'],
      ['next', 'P', null],
      ['blocked', ['S', 'P'], null],
      ['next', 'S', 0],
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
    holders: [['A'], ['A', 'B']],
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
      ['blocked', ['A', 'B'], /^no peer that has the remaining chunks is left$/],
      ['blocked', ['B'], /^no peer that has the remaining chunks is left$/],
    ],
  },
  {
    rule: 'a banned peer does not count as a holder',
    holders: [['A'], ['A', 'B']],
    slots: 1,
    steps: [
      ['next', 'A', 0],
      ['fail', 0, 'A', 'corrupt'],
      ['blocked', ['A', 'B'], /^no peer that has the remaining chunks is left$/],
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
      ['blocked', ['A'], /^no peer that has the remaining chunks is left$/],
    ],
  },
];

function run(row: Row): void {
  const list = chunks(row.holders);
  // ties between equally rare chunks go to the first (a random draw that never replaces it)
  let clock = 0;
  const s = new ChunkScheduler(list, {
    slotsPerPeer: row.slots ?? 2,
    maxAttempts: row.maxAttempts ?? 5,
    random: () => row.random ?? 0.99,
    now: () => clock,
    declineMs: 1_000,
    endgameAfterMs: 1_000,
  });
  row.steps.forEach((step, i) => {
    const at = `step ${i}: ${JSON.stringify(step, (_k, v: unknown) => (v instanceof RegExp ? String(v) : v))}`;
    switch (step[0]) {
      case 'next': {
        const a = s.next(step[1]);
        expect(a?.chunk.index ?? null, at).toBe(step[2]);
        if (a) expect(a.duplicate, at).toBe(false);
        break;
      }
      case 'dup': {
        const a = s.next(step[1]);
        expect(a?.chunk.index ?? null, at).toBe(step[2]);
        if (a) expect(a.duplicate, at).toBe(true);
        break;
      }
      case 'have': {
        const bits = new Bitfield(list.length);
        for (const i of step[2]) bits.set(i);
        s.setHave(step[1], bits);
        break;
      }
      case 'first':
        expect(s.complete(list[step[1]]!, step[2]), at).toBe(step[3]);
        break;
      case 'cancel':
        s.cancel(list[step[1]]!, step[2]);
        break;
      case 'clock':
        clock = step[1];
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
    s.complete(s.next('A')!.chunk, 'A');
    s.complete(s.next('B')!.chunk, 'B');
    s.complete(s.next('A')!.chunk, 'A');
    expect(Object.fromEntries(s.servedBy)).toEqual({ A: 2, B: 1 });
    expect([s.chunksDone, s.finished]).toEqual([3, true]);
  });
});
