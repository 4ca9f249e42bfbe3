// The node's history of finished operations: newest first, at most 100, back
// after a restart, and only well-formed entries read back.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../shared/api.js';
import { HISTORY_LIMIT, OperationHistory } from '../../../server/runtime/history/operation-history.js';
import { silentLogger } from '../../../server/runtime/logger.js';
import { tempDir } from '../../helpers/temp-dir.js';

const record = (id: string, over: Partial<HistoryEntry> = {}): Omit<HistoryEntry, 'seq'> => ({
  id,
  kind: 'download',
  outcome: 'ok',
  bytes: 1000,
  durationMs: 20,
  endedAt: new Date().toISOString(),
  error: null,
  ...over,
});

describe('OperationHistory', () => {
  it('keeps the newest 100, newest first, and tells each new one', async () => {
    const added: number[] = [];
    const history = new OperationHistory(await tempDir(), { logger: silentLogger, onAdd: (e) => added.push(e.seq) });
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) void history.add(record(`game${i}`));
    await history.flush();
    const list = history.list();
    expect(list).toHaveLength(HISTORY_LIMIT);
    expect(list[0]).toMatchObject({ id: `game${HISTORY_LIMIT + 4}`, seq: HISTORY_LIMIT + 5 });
    expect(list.at(-1)).toMatchObject({ id: 'game5' });
    expect(added).toHaveLength(HISTORY_LIMIT + 5);
  });

  it('comes back after a restart, numbering on from the last', async () => {
    const dir = await tempDir();
    const first = new OperationHistory(dir, { logger: silentLogger });
    await first.add(record('alpha'));
    await first.add(record('bravo', { kind: 'update', outcome: 'error', error: { code: 'no_peers', message: 'gone' } }));
    const second = new OperationHistory(dir, { logger: silentLogger });
    await second.load();
    expect(second.list()).toMatchObject([
      { id: 'bravo', kind: 'update', outcome: 'error', error: { code: 'no_peers' }, seq: 2 },
      { id: 'alpha', seq: 1 },
    ]);
    await second.add(record('charlie'));
    expect(second.list()[0]).toMatchObject({ id: 'charlie', seq: 3 });
  });

  it('reads back only well-formed entries, and starts empty from an unreadable file', async () => {
    const dir = await tempDir();
    const good = { seq: 4, ...record('alpha') };
    const bad = [{ ...good, id: '../x' }, { ...good, kind: 'teleport' }, { ...good, bytes: -1 }, 'x'];
    await fs.writeFile(path.join(dir, 'history.json'), JSON.stringify({ entries: [...bad, good] }));
    const history = new OperationHistory(dir, { logger: silentLogger });
    await history.load();
    expect(history.list()).toEqual([good]);
    await fs.writeFile(path.join(dir, 'history.json'), '{');
    const broken = new OperationHistory(dir, { logger: silentLogger });
    await broken.load();
    expect(broken.list()).toEqual([]);
  });
});
