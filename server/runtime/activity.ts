// What the node did and is waiting to do, beside the operations themselves:
// the transfer queue, the history of finished operations and the throughput
// samples. One owner for the three, fed by the operation registry's hooks; it
// starts transfers only through the `start` it is given, and never stops one.
import type { QueuedKind } from '../../shared/api.js';
import type { PeerEvent } from '../../shared/events.js';
import { toErrorInfo } from './errors.js';
import { OperationHistory } from './history/operation-history.js';
import type { Logger } from './logger.js';
import type { OperationRecord, OperationRegistry } from './operations.js';
import type { StoredQueueItem } from './queue/queue-store.js';
import { TransferQueue } from './queue/transfer-queue.js';
import type { TransferStats } from './stats.js';
import { InstallWrites, ThroughputSampler } from './throughput.js';

export interface NodeActivityDeps {
  stateDir: string;
  operations: () => OperationRegistry;
  stats: TransferStats;
  /** the setting: transfers at once */
  maxActive: () => number;
  start: (item: StoredQueueItem) => Promise<void>;
  setLastError: (id: string, error: ReturnType<typeof toErrorInfo>) => void;
  emit: (event: PeerEvent) => void;
  /** the games changed (their `queued`) */
  libraryChanged: () => void;
  logger: Logger;
}

const isTransfer = (kind: string) => kind === 'download' || kind === 'stream-install';

export class NodeActivity {
  readonly queue: TransferQueue;
  readonly history: OperationHistory;
  readonly throughput: ThroughputSampler;
  /** bytes written by installs, for the disk graph */
  private readonly installWrites = new InstallWrites();

  constructor(private readonly deps: NodeActivityDeps) {
    const ops = () => deps.operations();
    this.queue = new TransferQueue({
      stateDir: deps.stateDir,
      maxActive: deps.maxActive,
      activeTransfers: () =>
        ops()
          .list()
          .flatMap((op) => (isTransfer(op.kind) ? [op.id] : [])),
      operationOn: (id) => ops().get(id)?.kind ?? null,
      start: deps.start,
      startFailed: (id, error) => deps.setLastError(id, toErrorInfo(error)),
      onChange: () => {
        this.queueChanged();
        deps.libraryChanged();
      },
      logger: deps.logger.child({ component: 'queue' }),
    });
    this.history = new OperationHistory(deps.stateDir, {
      logger: deps.logger.child({ component: 'history' }),
      onAdd: (entry) => deps.emit({ type: 'HistoryAdded', entry }),
    });
    this.throughput = new ThroughputSampler({
      read: () => ({ down: deps.stats.downloadedBytes, up: deps.stats.uploadedBytes, disk: this.installWrites.total }),
      onSample: (sample) => deps.emit({ type: 'StatsSample', sample }),
    });
  }

  /** Start a transfer now, or queue it when every slot is taken. */
  request(id: string, kind: QueuedKind, install: boolean): Promise<'started' | 'queued'> {
    return this.queue.request(id, kind, install);
  }

  /** The operations changed (progress, a start, an end). */
  operationsChanged(): void {
    this.installWrites.observe(this.deps.operations().list());
    this.queue.schedule();
  }

  /** The transfer limit changed. */
  limitChanged(): void {
    this.queueChanged();
    this.queue.schedule();
  }

  /** An operation ended: into the history (a start refused before it began is answered to its caller, not recorded). */
  recordEnd(record: OperationRecord): void {
    if (isTransfer(record.kind) && this.queue.isStarting(record.id)) return;
    const kind = record.kind === 'download' && this.queue.startedKind(record.id) === 'update' ? 'update' : record.kind;
    void this.history.add({
      id: record.id,
      kind,
      outcome: record.outcome,
      bytes: record.bytes,
      durationMs: record.ms,
      endedAt: new Date().toISOString(),
      error: record.outcome === 'error' ? record.error : null,
    });
  }

  /** Read the history and start sampling (the queue loads once the transfers can start: loadQueue). */
  async start(): Promise<void> {
    await this.history.load();
    this.throughput.start();
  }

  loadQueue(): Promise<void> {
    return this.queue.load();
  }

  /** Before the transfers stop: their ends must not start queued ones. */
  async stopQueue(): Promise<void> {
    this.throughput.stop();
    await this.queue.close();
  }

  /** After everything stopped: the last history entries are on disk. */
  flush(): Promise<void> {
    return this.history.flush();
  }

  private queueChanged(): void {
    this.deps.emit({ type: 'QueueChanged', queue: this.queue.snapshot() });
  }
}
