// The transfer queue on disk: `<state dir>/queue.json`, replaced atomically on
// every change, so a crash leaves the old order or the new one. Loading keeps
// only well-formed items (each game once); an unreadable file is an empty queue.
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { GameId, QueuedKind } from '../../../shared/api.js';
import { readJsonFile, SerialFileWriter } from '../fs-util.js';

export const StoredQueueItem = Type.Object({
  id: GameId,
  kind: QueuedKind,
  install: Type.Boolean(),
  queuedAt: Type.String(),
});
export type StoredQueueItem = Static<typeof StoredQueueItem>;

export class QueueStore {
  private readonly writer: SerialFileWriter;

  constructor(stateDir: string, onError: (err: unknown) => void) {
    this.writer = new SerialFileWriter(path.join(stateDir, 'queue.json'), onError);
  }

  get file(): string {
    return this.writer.file;
  }

  async load(): Promise<{ items: StoredQueueItem[]; dropped: number }> {
    let json: unknown;
    try {
      json = await readJsonFile(this.file);
    } catch {
      return { items: [], dropped: 1 };
    }
    const raw = (json as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(raw)) return { items: [], dropped: json === undefined ? 0 : 1 };
    const seen = new Set<string>();
    const items: StoredQueueItem[] = [];
    for (const item of raw) {
      if (!Value.Check(StoredQueueItem, item) || seen.has(item.id)) continue;
      seen.add(item.id);
      items.push({ id: item.id, kind: item.kind, install: item.install, queuedAt: item.queuedAt });
    }
    return { items, dropped: raw.length - items.length };
  }

  /** Persist what `current()` returns when this write's turn comes (a failure goes to onError). */
  save(current: () => StoredQueueItem[]): Promise<void> {
    return this.writer.write(() => `${JSON.stringify({ items: current() }, null, 2)}\n`);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
