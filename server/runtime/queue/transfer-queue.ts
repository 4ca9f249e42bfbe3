// The transfer queue: at most `maxActive()` downloads, updates and streamed
// installs run at once; further requests wait here in the user's order, kept in
// the state dir after every change and restored at start. When a slot frees up
// the first waiting item whose game can start now starts; one with no source yet
// (or another operation on its game) keeps its place while later ones go ahead.
// The queue never stops a running transfer, not even when the limit drops.
import type { Queue, QueuedKind } from '../../../shared/api.js';
import { ErrorCode, QueueErrorCode } from '../../../shared/error-codes.js';
import { LanspreadError, OperationActiveError } from '../errors.js';
import type { Logger } from '../logger.js';
import { QueueStore, type StoredQueueItem } from './queue-store.js';

export interface TransferQueueDeps {
  stateDir: string;
  /** the setting: how many transfers run at once */
  maxActive: () => number;
  /** games with a download or a streamed install running now */
  activeTransfers: () => string[];
  /** the kind of the operation running on the game, if any */
  operationOn: (id: string) => string | null;
  /** start it now; rejects with a refusal (no peers, up to date, no space…) */
  start: (item: StoredQueueItem) => Promise<void>;
  /** a queued item could not start and left the queue: tell the user on the game */
  startFailed: (id: string, error: unknown) => void;
  onChange: () => void;
  logger: Logger;
}

export class TransferQueue {
  private items: StoredQueueItem[] = [];
  private readonly store: QueueStore;
  /** games whose start() is in flight (not yet an operation everywhere) */
  private readonly starting = new Set<string>();
  /** the kind each game's transfer was last started as (an update runs as a download operation) */
  private readonly startedAs = new Map<string, QueuedKind>();
  private pumping = false;
  private again = false;
  private scheduled = false;
  private closed = false;

  constructor(private readonly deps: TransferQueueDeps) {
    this.store = new QueueStore(deps.stateDir, (err) => deps.logger.warn({ err: (err as Error).message }, 'cannot save the queue'));
  }

  /** Restore the queue saved by the last run (the items start as slots free up). */
  async load(): Promise<void> {
    const { items, dropped } = await this.store.load();
    this.items = items;
    if (dropped > 0) this.deps.logger.warn({ dropped, file: this.store.file }, 'ignored unreadable queue entries');
    if (items.length > 0) this.deps.logger.info({ queued: items.map((i) => i.id) }, 'restored the transfer queue');
    this.schedule();
  }

  /** Stop starting anything (the node is stopping); what is queued stays saved. */
  async close(): Promise<void> {
    this.closed = true;
    await this.store.flush();
  }

  /**
   * Start the transfer now if a slot is free and nothing waits before it;
   * otherwise queue it. Refusals of a direct start reach the caller.
   */
  async request(id: string, kind: QueuedKind, install: boolean): Promise<'started' | 'queued'> {
    if (this.indexOf(id) >= 0) throw new LanspreadError(QueueErrorCode.AlreadyQueued, `"${id}" already waits in the queue`);
    const running = this.deps.operationOn(id);
    if (running) throw new OperationActiveError(id, running);
    const item: StoredQueueItem = { id, kind, install, queuedAt: new Date().toISOString() };
    if (!this.closed && this.items.length === 0 && this.running() < this.deps.maxActive()) {
      await this.launch(item);
      return 'started';
    }
    this.items.push(item);
    this.changed();
    this.schedule(); // a slot may be free while the games before it wait for a source
    await this.persist();
    return 'queued';
  }

  /** Move a queued game to a 1-based position (past the end: last). */
  async move(id: string, position: number): Promise<void> {
    const index = this.requireIndex(id);
    const [item] = this.items.splice(index, 1);
    this.items.splice(Math.min(Math.max(position, 1), this.items.length + 1) - 1, 0, item!);
    this.changed();
    await this.persist();
  }

  /** Replace the order; `order` must name exactly the games queued now. */
  async reorder(order: string[]): Promise<void> {
    const byId = new Map(this.items.map((item) => [item.id, item]));
    if (order.length !== byId.size || new Set(order).size !== order.length || !order.every((id) => byId.has(id))) {
      throw new LanspreadError(
        QueueErrorCode.OrderMismatch,
        `the new order must name each queued game once: ${this.items.map((i) => i.id).join(', ') || '(the queue is empty)'}`,
      );
    }
    this.items = order.map((id) => byId.get(id)!);
    this.changed();
    await this.persist();
  }

  /** Take a game out of the queue. */
  async remove(id: string): Promise<void> {
    this.items.splice(this.requireIndex(id), 1);
    this.changed();
    await this.persist();
  }

  /** Whether the game's start() is in flight (an operation that ends now was refused before it began). */
  isStarting(id: string): boolean {
    return this.starting.has(id);
  }

  has(id: string): boolean {
    return this.indexOf(id) >= 0;
  }

  /** The game's place in the queue, or null when it is not queued. */
  position(id: string): { position: number; kind: QueuedKind } | null {
    const index = this.indexOf(id);
    return index < 0 ? null : { position: index + 1, kind: this.items[index]!.kind };
  }

  /** What the game's last transfer was started as (null when never started by this node run). */
  startedKind(id: string): QueuedKind | null {
    return this.startedAs.get(id) ?? null;
  }

  snapshot(): Queue {
    return {
      maxActive: this.deps.maxActive(),
      active: this.running(),
      items: this.items.map((item, i) => ({ ...item, position: i + 1 })),
    };
  }

  /** Something may have freed a slot or given a waiting game a source: try to start queued items (soon, once). */
  schedule(): void {
    if (this.scheduled || this.closed || this.items.length === 0) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        for (const item of [...this.items]) {
          if (this.closed || this.running() >= this.deps.maxActive()) break;
          if (!this.has(item.id) || this.deps.operationOn(item.id)) continue; // removed meanwhile, or busy: it waits
          await this.startQueued(item);
        }
      } while (this.again && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  private async startQueued(item: StoredQueueItem): Promise<void> {
    try {
      await this.launch(item);
    } catch (err) {
      // no source right now: keep the place and wait for one (peers' libraries changing call schedule())
      if ((err as { code?: unknown }).code === ErrorCode.NoPeers) return;
      this.deps.logger.warn({ id: item.id, err: (err as Error).message }, 'a queued transfer could not start');
      this.drop(item.id);
      this.deps.startFailed(item.id, err);
      await this.persist();
      return;
    }
    this.drop(item.id);
    await this.persist();
  }

  private async launch(item: StoredQueueItem): Promise<void> {
    this.starting.add(item.id);
    this.startedAs.set(item.id, item.kind);
    try {
      await this.deps.start(item);
    } finally {
      this.starting.delete(item.id);
    }
  }

  private drop(id: string): void {
    const index = this.indexOf(id);
    if (index < 0) return;
    this.items.splice(index, 1);
    this.changed();
  }

  private running(): number {
    return new Set([...this.deps.activeTransfers(), ...this.starting]).size;
  }

  private persist(): Promise<void> {
    return this.store.save(() => this.items);
  }

  private changed(): void {
    this.deps.onChange();
  }

  private indexOf(id: string): number {
    return this.items.findIndex((item) => item.id === id);
  }

  private requireIndex(id: string): number {
    const index = this.indexOf(id);
    if (index < 0) throw new LanspreadError(QueueErrorCode.NotQueued, `"${id}" is not in the queue`);
    return index;
  }
}
