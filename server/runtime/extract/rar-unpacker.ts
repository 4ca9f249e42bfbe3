// The RAR Unpacker. Each call runs in a fresh worker thread, so the event loop
// never blocks on unrar's synchronous I/O, a library crash or leak dies with the
// worker, and an abort is a terminate(). The promise settles only once the
// worker has exited: when it rejects, nothing is still writing into destDir.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerUrl } from './worker-url.js';
import type { ExtractJob, WorkerMessage } from './rar-worker-protocol.js';
import { ExtractError, ExtractErrorCode, isExtractErrorCode, type ExtractOptions, type ExtractResult, type Unpacker } from './unpacker.js';

export interface RarUnpackerOptions {
  /** least time between two progress events; default 100 ms */
  progressIntervalMs?: number;
  /** refuse before writing when the declared sizes exceed the free space; default true */
  checkFreeSpace?: boolean;
  /** V8 heap limit of the worker in MB (the WASM heap is separate); default 256 */
  workerHeapMb?: number;
  /**
   * Largest decoder window (dictionary) an entry may need; unrar allocates it in
   * the worker's WASM heap. Default 1 GiB, the most RAR 5.0 archives can use.
   */
  maxDictionaryBytes?: number;
}

type Outcome = { ok: true; result: ExtractResult } | { ok: false; error: ExtractError };

export class RarUnpacker implements Unpacker {
  private readonly progressIntervalMs: number;
  private readonly checkFreeSpace: boolean;
  private readonly workerHeapMb: number;
  private readonly maxDictionaryBytes: number;

  constructor(options: RarUnpackerOptions = {}) {
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
    this.checkFreeSpace = options.checkFreeSpace ?? true;
    this.workerHeapMb = options.workerHeapMb ?? 256;
    this.maxDictionaryBytes = options.maxDictionaryBytes ?? 2 ** 30;
  }

  extract(archives: string[], destDir: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
    const { signal, onProgress, password } = opts;
    if (signal?.aborted) return Promise.reject(abortedError());
    const job: ExtractJob = {
      archives: archives.map((a) => path.resolve(a)),
      destDir: path.resolve(destDir),
      progressIntervalMs: this.progressIntervalMs,
      checkFreeSpace: this.checkFreeSpace,
      maxDictionaryBytes: this.maxDictionaryBytes,
      ...(password === undefined ? {} : { password }),
    };
    let worker: Worker;
    try {
      worker = new Worker(workerUrl('rar-worker', import.meta.url), {
        workerData: job,
        execArgv: [],
        resourceLimits: { maxOldGenerationSizeMb: this.workerHeapMb },
        // unrar's glue may print; nothing from an archive reaches our terminal raw
        stdout: true,
        stderr: true,
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return Promise.reject(new ExtractError(ExtractErrorCode.Failed, `cannot start the extraction worker: ${why}`, { cause: err }));
    }
    return new Promise<ExtractResult>((resolve, reject) => {
      let outcome: Outcome | null = null;
      let lastDone = -1;
      const finish = (o: Outcome): void => {
        outcome ??= o;
      };
      const stop = (o: Outcome): void => {
        finish(o);
        void worker.terminate();
      };
      const onAbort = (): void => stop({ ok: false, error: abortedError() });

      worker.stdout.resume();
      worker.stderr.resume();
      signal?.addEventListener('abort', onAbort, { once: true });

      worker.on('message', (message: WorkerMessage) => {
        if (outcome) return;
        if (message.type === 'progress') {
          if (message.bytesDone < lastDone || !onProgress) return;
          lastDone = message.bytesDone;
          try {
            onProgress({
              bytesDone: message.bytesDone,
              bytesTotal: message.bytesTotal,
              ...(message.entry === undefined ? {} : { entry: message.entry }),
            });
          } catch (err) {
            stop({ ok: false, error: new ExtractError(ExtractErrorCode.Failed, 'the progress callback threw', { cause: err }) });
          }
        } else if (message.type === 'done') {
          finish({ ok: true, result: { files: message.files, bytes: message.bytes } });
        } else {
          const code = isExtractErrorCode(message.code) ? message.code : ExtractErrorCode.Failed;
          finish({
            ok: false,
            error: new ExtractError(code, message.message, {
              ...(message.archive === undefined ? {} : { archive: message.archive }),
              ...(message.entry === undefined ? {} : { entry: message.entry }),
            }),
          });
        }
      });
      worker.on('error', (err) => {
        const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        const message = oom ? 'the extraction worker ran out of memory' : `the extraction worker crashed: ${err.message}`;
        finish({ ok: false, error: new ExtractError(ExtractErrorCode.Failed, message, { cause: err }) });
      });
      worker.on('exit', (code) => {
        signal?.removeEventListener('abort', onAbort);
        const final = outcome ?? {
          ok: false,
          error: new ExtractError(ExtractErrorCode.Failed, `the extraction worker exited unexpectedly (code ${code})`),
        };
        if (final.ok) resolve(final.result);
        else reject(final.error);
      });
    });
  }
}

function abortedError(): ExtractError {
  return new ExtractError(ExtractErrorCode.Aborted, 'extraction was aborted');
}
