// What the main thread and a streaming extraction worker exchange. The job
// goes in as workerData; control messages (the plan after the preflight, then
// 'done' or 'error') come back by postMessage; the extracted content goes
// through the shared ring (rar-stream-ring.ts) as records, in archive order:
// for every file, File, its Data records, FileEnd; Dir for a folder; End last.
import type { RingBuffers } from './rar-stream-ring.js';
import type { ExtractErrorCode } from './unpacker.js';

export interface StreamArchive {
  /** what the worker opens */
  path: string;
  /** printable name for messages (the path may be a /proc/self/fd link) */
  label: string;
}

export interface StreamJob {
  archives: StreamArchive[];
  ring: RingBuffers;
  /** largest payload of one Data record */
  chunkBytes: number;
  /** refuse entries whose decoder window (allocated in the worker) is larger */
  maxDictionaryBytes: number;
}

/** What the preflight found, before any content is produced. */
export interface StreamPlan {
  archives: number;
  files: number;
  dirs: number;
  /** sum of the declared sizes of the files */
  bytes: number;
}

export type StreamWorkerMessage =
  | { type: 'plan'; plan: StreamPlan }
  | { type: 'done' }
  | { type: 'error'; code: ExtractErrorCode; message: string; archive?: string; entry?: string };

/** Record kinds in the ring. */
export const RecordKind = { File: 1, Dir: 2, Data: 3, FileEnd: 4, End: 5 } as const;

/** A record as the main thread reads it. Paths are safe relative paths, `/`-separated. */
export type StreamRecord =
  /** `crc32`: 8 lowercase hex digits from the archive's header, or null when it carries none */
  | { kind: 'file'; path: string; size: number; crc32: string | null }
  | { kind: 'dir'; path: string }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'file-end' }
  | { kind: 'end'; files: number; dirs: number; bytes: number };
