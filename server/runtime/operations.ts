// At most one operation per game. Starting a second one is refused with
// OperationActiveError and the first keeps running. While an operation is
// active, the library holds back rescans of that game.
import type { ActiveOperation, Operation, OperationKind } from '../../shared/api.js';
import { OperationActiveError } from './errors.js';

export interface OperationHandle {
  readonly id: string;
  readonly kind: OperationKind;
  readonly signal: AbortSignal;
  update(patch: Partial<Omit<Operation, 'kind'>>): void;
  abort(reason?: unknown): void;
  /** end the operation (idempotent) */
  end(): Promise<void>;
}

export interface OperationHooks {
  /** called once when an operation starts; returns what to call when it ends */
  onBegin(id: string): () => Promise<void>;
  onChange(): void;
}

export class OperationRegistry {
  private readonly active = new Map<string, { op: Operation; controller: AbortController }>();

  constructor(private readonly hooks: OperationHooks) {}

  begin(id: string, kind: OperationKind, phase = 'starting'): OperationHandle {
    const current = this.active.get(id);
    if (current) throw new OperationActiveError(id, current.op.kind);
    const op: Operation = { kind, phase, bytesDone: 0, bytesTotal: 0, speed: 0, etaSeconds: null, peers: 0 };
    const controller = new AbortController();
    const entry = { op, controller };
    this.active.set(id, entry);
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
      end: async () => {
        if (ended) return;
        ended = true;
        // Rescan first, so the game never shows as idle with its old state.
        await release();
        if (this.active.get(id) === entry) this.active.delete(id);
        this.hooks.onChange();
      },
    };
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
