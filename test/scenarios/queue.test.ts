// The transfer queue between real `lanspread serve` processes (QUIC on
// loopback): games clicked in a row download one after the other in the order
// the user chose, and the queue and the history come back after a restart.
// Scenario ids Q1–Q2 in docs/SCENARIOS.md.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Game, HistoryEntry, Queue } from '../../shared/api.js';
import { getJson, postJson } from '../helpers/api.js';
import { cli } from '../helpers/cli.js';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';

const MiB = 1024 * 1024;
/** three catalog games with their catalog versions */
const GAMES = [
  { id: 'openttd', version: '20240601' },
  { id: 'wesnoth', version: '20240505' },
  { id: 'teeworlds', version: '20231120' },
  { id: 'hedgewars', version: '20240115' },
] as const;
const [A, B, C, D] = GAMES.map((g) => g.id) as [string, string, string, string];
/** random payloads, not archives: download only */
const DOWNLOAD_ONLY = { install: false };

type Node = NodeProcess & { games: string; state: string };

async function node(opts: { games?: string; state?: string; args?: string[] } = {}): Promise<Node> {
  const games = opts.games ?? (await tempDir());
  const state = opts.state ?? (await tempDir());
  const args = ['--quic-port', '0', ...(opts.args ?? [])];
  const n = await startNode({ games, state, args, env: { LANSPREAD_PING_INTERVAL_MS: '500', LANSPREAD_CHUNK_BYTES: String(MiB) } });
  onTestFinished(() => n.stop('SIGKILL'));
  return { ...n, games, state };
}

/** A node holding all four games, `size` bytes each (`first`: the first one's size). */
async function seed(size: number, first = size): Promise<{ node: Node; payloads: Map<string, Buffer> }> {
  const games = await tempDir();
  const payloads = new Map<string, Buffer>();
  for (const g of GAMES) {
    const payload = randomBytes(g.id === A ? first : size);
    payloads.set(g.id, payload);
    await makeGame(games, g.id, { version: g.version, files: { [`${g.id}.eti`]: payload } });
  }
  return { node: await node({ games }), payloads };
}

/** A receiver of `source`'s games at `limit` bytes per second, once it sees all four. */
async function receiver(source: Node, limit: string, dirs: { games?: string; state?: string } = {}): Promise<Node> {
  const r = await node({ ...dirs, args: ['--peer', `127.0.0.1:${source.quicPort}`, '--download-limit', limit] });
  await waitFor(
    async () => {
      const games = await getJson<Game[]>(r.url, '/api/games');
      return GAMES.every((g) => games.find((x) => x.id === g.id)?.peers === 1) ? true : undefined;
    },
    15_000,
    'the receiver to see the four games',
  );
  return r;
}

const queueOf = (n: Node) => getJson<Queue>(n.url, '/api/queue');
const historyOf = (n: Node) => getJson<HistoryEntry[]>(n.url, '/api/history');
const game = (n: Node, id: string) => getJson<Game>(n.url, `/api/games/${id}`);

/** Downloads in the history, oldest first. */
const downloads = async (n: Node) => (await historyOf(n)).filter((e) => e.kind === 'download').reverse();

/** Every queued and running transfer has ended, and `ids` are downloaded. */
async function allDownloaded(n: Node, ids: string[], timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      const [queue, games] = await Promise.all([queueOf(n), getJson<Game[]>(n.url, '/api/games')]);
      const done = ids.every((id) => games.find((g) => g.id === id)?.downloaded) && games.every((g) => g.operation === null);
      return queue.items.length === 0 && done ? true : undefined;
    },
    timeoutMs,
    `${ids.join(', ')} downloaded`,
  );
}

/** Each download began only after the one before it ended (ms; the node's own clock). */
function oneAfterAnother(entries: HistoryEntry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const before = Date.parse(entries[i - 1]!.endedAt);
    const began = Date.parse(entries[i]!.endedAt) - entries[i]!.durationMs;
    expect(began, `${entries[i]!.id} began before ${entries[i - 1]!.id} ended`).toBeGreaterThanOrEqual(before - 20);
  }
}

describe('the transfer queue between real nodes', () => {
  it('Q1: three games clicked in a row download one at a time, in the order the user chose', async () => {
    // the first one takes 12 s: the clicks and the CLI calls (each a new process) happen while it runs
    const { node: source, payloads } = await seed(3 * MiB, 24 * MiB);
    const r = await receiver(source, '2M');
    const clicked = [];
    for (const id of [A, B, C]) clicked.push(await postJson(r.url, `/api/games/${id}/download`, DOWNLOAD_ONLY));
    expect(clicked.map((c) => c.status)).toEqual([202, 202, 202]);
    const [first, second, third] = clicked.map((c) => c.body as Game);
    expect(first).toMatchObject({ operation: { kind: 'download' }, queued: null });
    expect(second).toMatchObject({ operation: null, queued: { position: 1, kind: 'download' } });
    expect(third).toMatchObject({ operation: null, queued: { position: 2, kind: 'download' } });

    // clicking again, and orders that are not the queue, are refused with stable codes
    const again = await postJson(r.url, `/api/games/${B}/download`, DOWNLOAD_ONLY);
    expect([again.status, (again.body as { error: { code: string } }).error.code]).toEqual([409, 'already_queued']);
    const wrong = await postJson(r.url, '/api/queue', { order: [B, A] }, 'PUT');
    expect([wrong.status, (wrong.body as { error: { code: string } }).error.code]).toEqual([409, 'queue_order_mismatch']);

    // a fourth, clicked and taken out again with the CLI: it never starts
    const fourth = await cli(['download', D, '--url', r.url]);
    expect([fourth.code, fourth.stdout.trim()]).toEqual([0, `download of ${D} queued at position 3 (lanspread queue shows the order).`]);
    expect((await cli(['queue', 'remove', D, '--url', r.url])).code).toBe(0);
    const notQueued = await cli(['queue', 'remove', D, '--url', r.url]);
    expect([notQueued.code, notQueued.stderr]).toEqual([1, `lanspread: "${D}" is not in the queue\n`]);

    // the last one clicked goes first (the CLI's move, then the list in its new order)
    const moved = await cli(['queue', 'move', C, '1', '--url', r.url, '--json']);
    expect(moved.code).toBe(0);
    expect((JSON.parse(moved.stdout) as Queue).items.map((i) => i.id)).toEqual([C, B]);
    expect((await game(r, B)).queued).toEqual({ position: 2, kind: 'download' });
    const listed = (await cli(['queue', '--url', r.url])).stdout;
    expect(listed.indexOf(C)).toBeGreaterThan(-1);
    expect(listed.indexOf(C)).toBeLessThan(listed.indexOf(B));
    // all of this happened while the first one was still running
    expect((await game(r, A)).operation?.kind).toBe('download');

    // never two at once, sampled while they run
    let most = 0;
    const watch = setInterval(() => {
      void getJson<{ kind: string }[]>(r.url, '/api/operations').then(
        (ops) => (most = Math.max(most, ops.filter((o) => o.kind === 'download').length)),
        () => undefined,
      );
    }, 100);
    try {
      await allDownloaded(r, [A, B, C]);
    } finally {
      clearInterval(watch);
    }
    const done = await downloads(r);
    expect(done.map((e) => [e.id, e.outcome])).toEqual([
      [A, 'ok'],
      [C, 'ok'],
      [B, 'ok'],
    ]);
    oneAfterAnother(done);
    expect(most).toBe(1);
    for (const e of done) expect(e.bytes).toBeGreaterThanOrEqual(3 * MiB);
    for (const id of [A, B, C]) {
      expect(Buffer.compare(await fs.readFile(path.join(r.games, id, `${id}.eti`)), payloads.get(id)!), id).toBe(0);
    }
    expect((await game(r, D)).downloaded).toBe(false);
    const history = await cli(['history', '--url', r.url, '--json']);
    expect((JSON.parse(history.stdout) as HistoryEntry[]).map((e) => e.id)).toEqual([B, C, A]);
  });

  it('Q2: the queue and the history survive a restart; the interrupted download resumes first, then the queue in its order', async () => {
    const { node: source } = await seed(6 * MiB);
    const first = await receiver(source, '2M');
    for (const id of [A, B, C]) expect((await postJson(first.url, `/api/games/${id}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    expect((await postJson(first.url, '/api/queue', { order: [C, B] }, 'PUT')).status).toBe(200);
    await waitFor(async () => ((await game(first, A)).operation?.bytesDone ?? 0) > 0 || undefined, 15_000, `${A} under way`);
    await first.stop('SIGTERM');
    expect(await first.exited).toBe(0);
    const saved = JSON.parse(await fs.readFile(path.join(first.state, 'queue.json'), 'utf8')) as { items: { id: string }[] };
    expect(saved.items.map((i) => i.id)).toEqual([C, B]);

    const second = await receiver(source, '8M', { games: first.games, state: first.state });
    const restored = await queueOf(second);
    // A resumes from its journal; the queue keeps its order and waits for it
    expect(restored.items.map((i) => [i.id, i.position])).toEqual([
      [C, 1],
      [B, 2],
    ]);
    await allDownloaded(second, [A, B, C]);
    const done = await downloads(second);
    expect(done.map((e) => [e.id, e.outcome])).toEqual([
      [A, 'interrupted'],
      [A, 'ok'],
      [C, 'ok'],
      [B, 'ok'],
    ]);
    oneAfterAnother(done.slice(1));
  });
});
