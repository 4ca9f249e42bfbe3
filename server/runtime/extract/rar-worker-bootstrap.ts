// The part every extraction worker's entry point shares: it refuses to run
// outside a worker thread, hands the job (workerData) and a typed send() to
// the body, and turns whatever the body throws into exactly one 'error'
// message (an ExtractError as is, anything else as a Failed one), so nothing
// is left uncaught. What the body sends on success is up to the worker.
import { parentPort, workerData } from 'node:worker_threads';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

/** The failure message both worker protocols share. */
export interface WorkerErrorMessage {
  type: 'error';
  code: ExtractErrorCode;
  message: string;
  archive?: string;
  entry?: string;
}

export async function runWorker<Job, Message>(
  name: string,
  body: (job: Job, send: (message: Message) => void) => Promise<void>,
): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error(`${name} must run as a worker thread`);
  const send = (message: Message | WorkerErrorMessage): void => port.postMessage(message);

  try {
    await body(workerData as Job, send);
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
}
