// The node's history of finished operations: the newest `limit` (100), newest
// first, in `<state dir>/history.json`, replaced atomically after each one, so
// the dashboard and the CLI show what happened across reloads and restarts.
// Loading keeps only well-formed entries; an unreadable file starts it empty.
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HistoryEntry } from '../../../shared/api.js';
import { isErrorCode } from '../../../shared/error-codes.js';
import { readJsonFile, SerialFileWriter } from '../fs-util.js';
import type { Logger } from '../logger.js';

export const HISTORY_LIMIT = 100;

/** HistoryEntry as read back from disk (the API schema's date format and code enum are checked by hand). */
const StoredEntry = Type.Composite([
  Type.Omit(HistoryEntry, ['endedAt', 'error']),
  Type.Object({ endedAt: Type.String(), error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]) }),
]);

function isEntry(value: unknown): value is HistoryEntry {
  return (
    Value.Check(StoredEntry, value) && !Number.isNaN(Date.parse(value.endedAt)) && (value.error === null || isErrorCode(value.error.code))
  );
}

export class OperationHistory {
  private readonly writer: SerialFileWriter;
  private entries: HistoryEntry[] = [];
  private seq = 0;

  constructor(
    stateDir: string,
    private readonly opts: { logger: Logger; onAdd?: (entry: HistoryEntry) => void; limit?: number },
  ) {
    this.writer = new SerialFileWriter(path.join(stateDir, 'history.json'), (err) =>
      opts.logger.warn({ err: (err as Error).message }, 'cannot save the history'),
    );
  }

  private get limit(): number {
    return this.opts.limit ?? HISTORY_LIMIT;
  }

  async load(): Promise<void> {
    let json: unknown;
    try {
      json = await readJsonFile(this.writer.file);
    } catch (err) {
      this.opts.logger.warn({ file: this.writer.file, err: (err as Error).message }, 'history unreadable; starting it empty');
      return;
    }
    const raw = (json as { entries?: unknown } | undefined)?.entries;
    if (!Array.isArray(raw)) return;
    this.entries = raw.filter(isEntry).slice(0, this.limit);
    this.seq = this.entries.reduce((max, e) => Math.max(max, e.seq), 0);
  }

  /** Record one finished operation; resolves once it is on disk (a failed write is logged, never thrown). */
  add(record: Omit<HistoryEntry, 'seq'>): Promise<void> {
    const entry: HistoryEntry = { seq: ++this.seq, ...record };
    this.entries = [entry, ...this.entries].slice(0, this.limit);
    this.opts.onAdd?.(entry);
    return this.writer.write(() => `${JSON.stringify({ entries: this.entries })}\n`);
  }

  /** Newest first. */
  list(): HistoryEntry[] {
    return [...this.entries];
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
