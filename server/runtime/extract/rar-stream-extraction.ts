// Streaming extraction, main-thread side: a worker extracts the archives and
// hands their content over as records through a bounded shared ring, instead
// of writing files. Memory stays bounded by the ring (plus unrar's own
// window in the worker): when the consumer stops taking records, the worker
// blocks. abort() closes the ring, which wakes a blocked worker and makes it
// stop; a worker that does not exit within the grace period is terminated.
// `exited` settles only once the worker thread is gone.
import { Worker } from 'node:worker_threads';
import { workerUrl } from './worker-url.js';
import {
  RecordKind,
  type StreamArchive,
  type StreamJob,
  type StreamPlan,
  type StreamRecord,
  type StreamWorkerMessage,
} from './rar-stream-protocol.js';
import { createRing, RingConsumer } from './rar-stream-ring.js';
import { ExtractError, ExtractErrorCode, isExtractErrorCode } from './unpacker.js';

export interface StreamExtractionOptions {
  /** bytes the ring holds between the worker and the consumer; default 1 MiB */
  ringBytes?: number;
  /** largest data record; default 64 KiB */
  chunkBytes?: number;
  /** V8 heap limit of the worker in MB (the WASM heap is separate); default 256 */
  workerHeapMb?: number;
  /** largest decoder window an entry may need; default 1 GiB */
  maxDictionaryBytes?: number;
  /** after abort(), how long the worker may take to stop before it is terminated; default 2 s */
  abortGraceMs?: number;
}

export const DEFAULT_RING_BYTES = 1024 * 1024;
export const DEFAULT_STREAM_CHUNK_BYTES = 64 * 1024;

function workerEntry(): URL {
  return workerUrl('rar-stream-worker', import.meta.url);
}

export class StreamExtraction {
  /** resolves once every archive passed the preflight (before any record); rejects with an ExtractError */
  readonly plan: Promise<StreamPlan>;
  /** settles once the worker thread has exited: null when it produced everything, else why it stopped */
  readonly exited: Promise<ExtractError | null>;
  private readonly consumer: RingConsumer;
  private readonly worker: Worker;
  private outcome: ExtractError | null | undefined;
  private gone = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    archives: StreamArchive[],
    private readonly opts: StreamExtractionOptions = {},
  ) {
    const ring = createRing(opts.ringBytes ?? DEFAULT_RING_BYTES);
    this.consumer = new RingConsumer(ring);
    const job: StreamJob = {
      archives,
      ring,
      chunkBytes: opts.chunkBytes ?? DEFAULT_STREAM_CHUNK_BYTES,
      maxDictionaryBytes: opts.maxDictionaryBytes ?? 2 ** 30,
    };
    let planned!: (p: StreamPlan) => void;
    let refused!: (e: ExtractError) => void;
    this.plan = new Promise<StreamPlan>((resolve, reject) => {
      planned = resolve;
      refused = reject;
    });
    this.plan.catch(() => undefined); // a caller that never asks must not see an unhandled rejection
    this.worker = new Worker(workerEntry(), {
      workerData: job,
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: opts.workerHeapMb ?? 256 },
      stdout: true,
      stderr: true,
    });
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    const fail = (error: ExtractError): void => {
      this.outcome ??= error;
      refused(error);
    };
    this.worker.on('message', (m: StreamWorkerMessage) => {
      if (m.type === 'plan') planned(m.plan);
      else if (m.type === 'done') this.outcome ??= null;
      else {
        const code = isExtractErrorCode(m.code) ? m.code : ExtractErrorCode.Failed;
        fail(
          new ExtractError(code, m.message, {
            ...(m.archive === undefined ? {} : { archive: m.archive }),
            ...(m.entry === undefined ? {} : { entry: m.entry }),
          }),
        );
      }
    });
    this.worker.on('error', (err) => {
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      fail(
        new ExtractError(
          ExtractErrorCode.Failed,
          oom ? 'the extraction worker ran out of memory' : `the extraction worker crashed: ${err.message}`,
        ),
      );
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.gone = true;
        clearTimeout(this.killTimer);
        if (this.outcome === undefined)
          fail(new ExtractError(ExtractErrorCode.Failed, `the extraction worker exited unexpectedly (code ${code})`));
        this.consumer.markProducerGone();
        resolve(this.outcome ?? null);
      });
    });
  }

  /** Bytes waiting in the ring (never more than its capacity). */
  get queuedBytes(): number {
    return this.consumer.queuedBytes;
  }

  /** Whether the worker thread is still alive. */
  get running(): boolean {
    return !this.gone;
  }

  /** The next record; null when there are no more (then `exited` tells whether that was the end or a failure). */
  async next(): Promise<StreamRecord | null> {
    const record = await this.consumer.read();
    if (record === null) return null;
    switch (record.kind) {
      case RecordKind.Data:
        return { kind: 'data', bytes: record.payload };
      case RecordKind.FileEnd:
        return { kind: 'file-end' };
      case RecordKind.File:
        return { kind: 'file', ...(this.json(record.payload) as { path: string; size: number; crc32: string | null }) };
      case RecordKind.Dir:
        return { kind: 'dir', ...(this.json(record.payload) as { path: string }) };
      case RecordKind.End:
        return { kind: 'end', ...(this.json(record.payload) as { files: number; dirs: number; bytes: number }) };
      default:
        throw new ExtractError(ExtractErrorCode.Failed, `the extraction worker sent an unknown record (${record.kind})`);
    }
  }

  /** Stop: a blocked worker wakes and stops; one that does not is terminated after the grace period. Idempotent. */
  abort(): void {
    this.consumer.close();
    if (this.gone || this.killTimer) return;
    this.killTimer = setTimeout(() => void this.worker.terminate(), this.opts.abortGraceMs ?? 2_000);
    this.killTimer.unref();
  }

  private json(payload: Buffer): unknown {
    return JSON.parse(this.decoder.decode(payload)) as unknown;
  }
}

/** Start extracting `archives` (in order) into a stream of records. */
export function startStreamExtraction(archives: StreamArchive[], opts: StreamExtractionOptions = {}): StreamExtraction {
  return new StreamExtraction(archives, opts);
}
