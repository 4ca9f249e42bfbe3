// The messages between RarUnpacker (main thread) and its extraction worker.
// The worker gets one job at start (workerData) and answers with progress
// messages, then exactly one 'done' or 'error', then exits.
import type { ExtractErrorCode } from './unpacker.js';

export interface ExtractJob {
  archives: string[];
  destDir: string;
  password?: string;
  /** least time between two progress messages */
  progressIntervalMs: number;
  /** refuse up front when the declared sizes exceed the free space */
  checkFreeSpace: boolean;
  /** refuse entries whose decoder window (allocated in the worker) is larger */
  maxDictionaryBytes: number;
}

export type WorkerMessage =
  | { type: 'progress'; bytesDone: number; bytesTotal: number; entry?: string }
  | { type: 'done'; files: number; bytes: number }
  | { type: 'error'; code: ExtractErrorCode; message: string; archive?: string; entry?: string };
