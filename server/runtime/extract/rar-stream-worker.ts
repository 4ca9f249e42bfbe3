// Entry point of a streaming extraction worker thread (see rar-stream-job.ts).
// unrar's I/O is synchronous and the ring blocks this thread on purpose, so
// none of it may run on the main thread. Every outcome becomes one message:
// the plan first, then 'done' or 'error'; nothing is left uncaught.
import { runStreamJob } from './rar-stream-job.js';
import type { StreamJob, StreamWorkerMessage } from './rar-stream-protocol.js';
import { runWorker } from './rar-worker-bootstrap.js';

await runWorker<StreamJob, StreamWorkerMessage>('rar-stream-worker', async (job, send) => {
  await runStreamJob(job, (plan) => send({ type: 'plan', plan }));
  send({ type: 'done' });
});
