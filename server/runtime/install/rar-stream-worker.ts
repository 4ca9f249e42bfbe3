// Entry point of a streaming extraction worker thread (see rar-stream-job.ts).
// unrar's I/O is synchronous and the ring blocks this thread on purpose, so
// none of it may run on the main thread. Every outcome becomes one message:
// the plan first, then 'done' or 'error'; nothing is left uncaught.
import { parentPort, workerData } from 'node:worker_threads';
import { runStreamJob } from './rar-stream-job.js';
import type { StreamJob, StreamWorkerMessage } from './rar-stream-protocol.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

const port = parentPort;
if (!port) throw new Error('rar-stream-worker must run as a worker thread');
const send = (message: StreamWorkerMessage): void => port.postMessage(message);

try {
  await runStreamJob(workerData as StreamJob, (plan) => send({ type: 'plan', plan }));
  send({ type: 'done' });
} catch (err) {
  const error =
    err instanceof ExtractError
      ? err
      : new ExtractError(
          ExtractErrorCode.Failed,
          `extraction failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        );
  send({
    type: 'error',
    code: error.code,
    message: error.message,
    ...(error.archive === undefined ? {} : { archive: error.archive }),
    ...(error.entry === undefined ? {} : { entry: error.entry }),
  });
}
