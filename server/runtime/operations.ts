// At most one operation per game. Starting a second one is refused with
// OperationActiveError and the first keeps running. While an operation is
// active, the library holds back rescans of that game. Each operation logs one
// line when it starts and one when it ends, with its outcome: ok, error (with
// the code), cancelled, or interrupted (by a shutdown), and hands the same
// record to `onEnd` (the node's history).
import type { ActiveOperation, ErrorInfo, Operation, OperationKind } from '../../shared/api.js';
import { OperationActiveError, toErrorInfo } from './errors.js';
import type { Logger } from './logger.js';
import { ErrorCode } from '../../shared/error-codes.js';

export type OperationOutcome = 'ok' | 'error' | 'cancelled' | 'interrupted';

export interface OperationHandle {
  readonly id: string;
  readonly kind: OperationKind;
  readonly signal: AbortSignal;
  update(patch: Partial<Omit<Operation, 'kind'>>): void;
  abort(reason?: unknown): void;
  /** end the operation (idempotent); `error`: it failed before any lastError was set */
  end(error?: unknown): Promise<void>;
}

/** How an operation ended, for the history. */
export interface OperationRecord {
  id: string;
  kind: OperationKind;
  outcome: OperationOutcome;
  /** bytes done when it ended */
  bytes: number;
  ms: number;
  error: ErrorInfo | null;
}

export interface OperationHooks {
  /** called once when an operation starts; returns what to call when it ends */
  onBegin(id: string): () => Promise<void>;
  onChange(): void;
  /** called once when an operation ends, before it leaves the active list */
  onEnd?(record: OperationRecord): void;
  /** where the start and end lines go */
  logger?: Logger;
}

interface ActiveEntry {
  op: Operation;
  controller: AbortController;
  error: ErrorInfo | null;
}

function outcomeOf(entry: ActiveEntry): OperationOutcome {
  if (entry.error) return 'error';
  const { signal } = entry.controller;
  if (!signal.aborted) return 'ok';
  return (signal.reason as { code?: unknown } | undefined)?.code === ErrorCode.ShuttingDown ? 'interrupted' : 'cancelled';
}

export class OperationRegistry {
  private readonly active = new Map<string, ActiveEntry>();

  constructor(private readonly hooks: OperationHooks) {}

  begin(id: string, kind: OperationKind, phase = 'starting'): OperationHandle {
    const current = this.active.get(id);
    if (current) throw new OperationActiveError(id, current.op.kind);
    const op: Operation = { kind, phase, bytesDone: 0, bytesTotal: 0, speed: 0, etaSeconds: null, peers: 0 };
    const controller = new AbortController();
    const entry = { op, controller, error: null as ErrorInfo | null };
    this.active.set(id, entry);
    const startedAt = Date.now();
    this.hooks.logger?.info({ id, kind, event: 'operation_start' }, 'operation started');
    const release = this.hooks.onBegin(id);
    this.hooks.onChange();
    let ended = false;
    return {
      id,
      kind,
      signal: controller.signal,
      update: (patch) => {
        if (ended) return;
        Object.assign(op, patch);
        this.hooks.onChange();
      },
      abort: (reason) => controller.abort(reason),
      end: async (error?: unknown) => {
        if (ended) return;
        ended = true;
        if (error !== undefined) entry.error = toErrorInfo(error);
        const ms = Date.now() - startedAt;
        const outcome = outcomeOf(entry);
        this.logEnd(id, entry, outcome, ms);
        this.hooks.onEnd?.({ id, kind, outcome, bytes: op.bytesDone, ms, error: entry.error });
        // Rescan first, so the game never shows as idle with its old state.
        await release();
        if (this.active.get(id) === entry) this.active.delete(id);
        this.hooks.onChange();
      },
    };
  }

  /** The operation on `id` failed with this (the game's lastError): its end line says so. */
  noteError(id: string, error: ErrorInfo): void {
    const entry = this.active.get(id);
    if (entry) entry.error = error;
  }

  private logEnd(id: string, entry: ActiveEntry, outcome: OperationOutcome, ms: number): void {
    const logger = this.hooks.logger;
    if (!logger) return;
    const line = { id, kind: entry.op.kind, event: 'operation_end', outcome, ms, ...(entry.error ? { code: entry.error.code } : {}) };
    if (outcome === 'error') logger.warn({ ...line, err: entry.error?.message }, 'operation ended');
    else logger.info(line, 'operation ended');
  }

  get(id: string): Operation | null {
    return this.active.get(id)?.op ?? null;
  }

  abort(id: string, reason?: unknown): boolean {
    const entry = this.active.get(id);
    entry?.controller.abort(reason);
    return entry !== undefined;
  }

  list(): ActiveOperation[] {
    return [...this.active.entries()].map(([id, { op }]) => ({ id, ...op }));
  }
}
