// Entry point of the extraction worker thread. unrar's file I/O is synchronous
// and would block the event loop for the whole extraction, so it runs here; the
// main thread only relays messages. Every outcome becomes one message: a library
// bug or any other throw is reported as an ExtractError, never left uncaught.
import { runExtractJob } from './rar-extract-job.js';
import { runWorker } from './rar-worker-bootstrap.js';
import type { ExtractJob, WorkerMessage } from './rar-worker-protocol.js';

await runWorker<ExtractJob, WorkerMessage>('rar-worker', async (job, send) => {
  const result = await runExtractJob(job, (p) => send({ type: 'progress', ...p }));
  send({ type: 'done', files: result.files, bytes: result.bytes });
});
