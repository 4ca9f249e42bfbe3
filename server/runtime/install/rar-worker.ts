// Entry point of the extraction worker thread. unrar's file I/O is synchronous
// and would block the event loop for the whole extraction, so it runs here; the
// main thread only relays messages. Every outcome becomes one message: a library
// bug or any other throw is reported as an ExtractError, never left uncaught.
import { parentPort, workerData } from 'node:worker_threads';
import { runExtractJob } from './rar-extract-job.js';
import type { ExtractJob, WorkerMessage } from './rar-worker-protocol.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

const port = parentPort;
if (!port) throw new Error('rar-worker must run as a worker thread');
const send = (message: WorkerMessage): void => port.postMessage(message);

try {
  const result = await runExtractJob(workerData as ExtractJob, (p) => send({ type: 'progress', ...p }));
  send({ type: 'done', files: result.files, bytes: result.bytes });
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
