// The transfer queue against fake transfers: what starts at once and what
// waits, the user's order, refusals with stable codes, a waiting game without a
// source keeping its place, and the queue coming back from the state dir.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, QueueErrorCode } from '../../../shared/error-codes.js';
import { LanspreadError } from '../../../server/runtime/errors.js';
import { silentLogger } from '../../../server/runtime/logger.js';
import type { StoredQueueItem } from '../../../server/runtime/queue/queue-store.js';
import { TransferQueue } from '../../../server/runtime/queue/transfer-queue.js';
import { tempDir, waitFor } from '../../helpers/temp-dir.js';

/** A queue over fake transfers that run until `finish(id)`; `refuse` makes a start throw. */
async function fakeQueue(stateDir?: string, max = 1) {
  const dir = stateDir ?? (await tempDir());
  const running = new Set<string>();
  const started: string[] = [];
  /** every start asked for, refused or not */
  const tried: string[] = [];
  const failures: [string, string][] = [];
  const refuse = new Map<string, string>();
  const limit = { max };
  const queue: TransferQueue = new TransferQueue({
    stateDir: dir,
    maxActive: () => limit.max,
    activeTransfers: () => [...running],
    operationOn: (id) => (running.has(id) ? 'download' : null),
    start: async (item: StoredQueueItem) => {
      tried.push(item.id);
      const code = refuse.get(item.id);
      if (code) throw new LanspreadError(code as ErrorCode, `refused ${item.id}`);
      running.add(item.id);
      started.push(`${item.kind}:${item.id}`);
    },
    startFailed: (id, error) => failures.push([id, (error as LanspreadError).code]),
    onChange: () => undefined,
    logger: silentLogger,
  });
  const finish = (id: string) => {
    running.delete(id);
    queue.schedule();
  };
  const ids = () => queue.snapshot().items.map((i) => i.id);
  return { queue, dir, started, tried, failures, refuse, finish, ids, limit };
}

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (err: unknown) => (err as LanspreadError).code,
  );

describe('TransferQueue', () => {
  it('starts up to the limit at once and queues the rest, which then start one after another in order', async () => {
    const q = await fakeQueue();
    expect(await q.queue.request('alpha', 'download', true)).toBe('started');
    expect(await q.queue.request('bravo', 'update', false)).toBe('queued');
    expect(await q.queue.request('charlie', 'stream-install', true)).toBe('queued');
    expect(q.started).toEqual(['download:alpha']);
    expect(q.queue.snapshot()).toMatchObject({
      maxActive: 1,
      active: 1,
      items: [
        { id: 'bravo', kind: 'update', install: false, position: 1 },
        { id: 'charlie', kind: 'stream-install', install: true, position: 2 },
      ],
    });
    expect(q.queue.position('charlie')).toEqual({ position: 2, kind: 'stream-install' });
    expect(q.queue.position('alpha')).toBeNull();
    q.finish('alpha');
    await waitFor(() => (q.started.length === 2 ? true : undefined));
    expect(q.started).toEqual(['download:alpha', 'update:bravo']);
    expect(q.ids()).toEqual(['charlie']);
    q.finish('bravo');
    await waitFor(() => (q.started.length === 3 ? true : undefined));
    expect(q.ids()).toEqual([]);
    expect(q.queue.startedKind('bravo')).toBe('update');
  });

  it('starts in the order the user chose (move and reorder)', async () => {
    const q = await fakeQueue();
    await q.queue.request('alpha', 'download', true);
    for (const id of ['bravo', 'charlie', 'delta']) await q.queue.request(id, 'download', true);
    await q.queue.move('delta', 1);
    expect(q.ids()).toEqual(['delta', 'bravo', 'charlie']);
    await q.queue.move('delta', 99);
    expect(q.ids()).toEqual(['bravo', 'charlie', 'delta']);
    await q.queue.reorder(['charlie', 'delta', 'bravo']);
    expect(q.ids()).toEqual(['charlie', 'delta', 'bravo']);
    q.finish('alpha');
    await waitFor(() => (q.started.length === 2 ? true : undefined));
    expect(q.started[1]).toBe('download:charlie');
  });

  it('refuses with stable codes: twice queued, not queued, an order that is not the queue, a game already running', async () => {
    const q = await fakeQueue();
    await q.queue.request('alpha', 'download', true);
    await q.queue.request('bravo', 'download', true);
    expect(await codeOf(q.queue.request('bravo', 'download', true))).toBe(QueueErrorCode.AlreadyQueued);
    expect(await codeOf(q.queue.request('alpha', 'download', true))).toBe(ErrorCode.OperationActive);
    expect(await codeOf(q.queue.move('zulu', 1))).toBe(QueueErrorCode.NotQueued);
    expect(await codeOf(q.queue.remove('zulu'))).toBe(QueueErrorCode.NotQueued);
    for (const order of [[], ['bravo', 'bravo'], ['alpha'], ['bravo', 'charlie']]) {
      expect(await codeOf(q.queue.reorder(order)), order.join()).toBe(QueueErrorCode.OrderMismatch);
    }
    expect(q.ids()).toEqual(['bravo']);
  });

  it('a removed item never starts', async () => {
    const q = await fakeQueue();
    await q.queue.request('alpha', 'download', true);
    await q.queue.request('bravo', 'download', true);
    await q.queue.request('charlie', 'download', true);
    await q.queue.remove('bravo');
    q.finish('alpha');
    await waitFor(() => (q.started.length === 2 ? true : undefined));
    expect(q.started).toEqual(['download:alpha', 'download:charlie']);
  });

  it('a waiting game with no source keeps its place while the next starts; another refusal leaves the queue and is reported', async () => {
    const q = await fakeQueue();
    await q.queue.request('alpha', 'download', true);
    for (const id of ['bravo', 'charlie', 'delta']) await q.queue.request(id, 'download', true);
    q.refuse.set('bravo', ErrorCode.NoPeers);
    q.refuse.set('charlie', ErrorCode.UpToDate);
    q.finish('alpha');
    await waitFor(() => (q.started.length === 2 ? true : undefined));
    expect(q.started).toEqual(['download:alpha', 'download:delta']);
    expect(q.failures).toEqual([['charlie', ErrorCode.UpToDate]]);
    expect(q.ids()).toEqual(['bravo']);
    // a slot frees up while bravo still has no source: a game queued behind it starts
    const triedBefore = q.tried.filter((id) => id === 'bravo').length;
    q.finish('delta');
    await waitFor(() => (q.tried.filter((id) => id === 'bravo').length > triedBefore ? true : undefined));
    await waitFor(() => (q.queue.snapshot().active === 0 ? true : undefined));
    expect(await q.queue.request('echo', 'download', true)).toBe('queued');
    await waitFor(() => (q.started.length === 3 ? true : undefined));
    expect(q.started[2]).toBe('download:echo');
    expect(q.ids()).toEqual(['bravo']);
    // a source appears: it starts as soon as a slot is free
    q.refuse.delete('bravo');
    q.finish('echo');
    await waitFor(() => (q.started.length === 4 ? true : undefined));
    expect(q.started[3]).toBe('download:bravo');
  });

  it('a higher limit starts more at once; a lower one stops nothing that runs', async () => {
    const q = await fakeQueue(undefined, 1);
    await q.queue.request('alpha', 'download', true);
    await q.queue.request('bravo', 'download', true);
    await q.queue.request('charlie', 'download', true);
    q.limit.max = 3;
    q.queue.schedule();
    await waitFor(() => (q.started.length === 3 ? true : undefined));
    q.limit.max = 1;
    await q.queue.request('delta', 'download', true);
    expect(q.queue.snapshot()).toMatchObject({ active: 3, items: [{ id: 'delta' }] });
  });

  it('comes back after a restart in the same order, and skips what it cannot read', async () => {
    const first = await fakeQueue();
    await first.queue.request('alpha', 'download', true);
    await first.queue.request('charlie', 'stream-install', true);
    await first.queue.request('bravo', 'update', false);
    await first.queue.move('bravo', 1);
    await first.queue.close();
    const saved = JSON.parse(await fs.readFile(path.join(first.dir, 'queue.json'), 'utf8')) as { items: { id: string }[] };
    expect(saved.items.map((i) => i.id)).toEqual(['bravo', 'charlie']);

    // a game never started keeps waiting until a slot is free: here none is
    const second = await fakeQueue(first.dir, 0);
    await second.queue.load();
    expect(second.queue.snapshot().items).toMatchObject([
      { id: 'bravo', kind: 'update', install: false, position: 1 },
      { id: 'charlie', kind: 'stream-install', install: true, position: 2 },
    ]);
    second.limit.max = 1;
    second.queue.schedule();
    await waitFor(() => (second.started.length === 1 ? true : undefined));
    expect(second.started).toEqual(['update:bravo']);

    await fs.writeFile(
      path.join(first.dir, 'queue.json'),
      JSON.stringify({ items: [{ id: '../etc', kind: 'download', install: true, queuedAt: 'x' }, { id: 'delta' }, 7] }),
    );
    const third = await fakeQueue(first.dir, 0);
    await third.queue.load();
    expect(third.ids()).toEqual([]);
    await fs.writeFile(path.join(first.dir, 'queue.json'), '{not json');
    const fourth = await fakeQueue(first.dir, 0);
    await fourth.queue.load();
    expect(fourth.ids()).toEqual([]);
  });

  it('starts nothing once closed (the node is stopping)', async () => {
    const q = await fakeQueue();
    await q.queue.request('alpha', 'download', true);
    await q.queue.request('bravo', 'download', true);
    await q.queue.close();
    q.finish('alpha');
    await new Promise((resolve) => setImmediate(resolve));
    expect(q.started).toEqual(['download:alpha']);
    expect(q.ids()).toEqual(['bravo']);
  });
});
