// The extraction engine the installer depends on, as an interface so tests can
// inject a fake. Contract: on success every archive has been extracted, in
// order, into `destDir` and every created path lies inside it; on failure the
// promise rejects with an ExtractError and whatever sits in `destDir` must be
// discarded by the caller (nothing half-extracted is ever promoted).

export interface ExtractProgress {
  /** bytes of file content written so far, over all archives */
  bytesDone: number;
  /** sum of the unpacked sizes the archives' headers declare */
  bytesTotal: number;
  /** the entry being written, control characters stripped */
  entry?: string;
}

export interface ExtractOptions {
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress) => void;
  password?: string;
}

export interface ExtractResult {
  /** regular files in `destDir` afterwards */
  files: number;
  /** their total size in bytes */
  bytes: number;
}

export interface Unpacker {
  /** Extract every archive, in order, into `destDir` (which exists and is empty). */
  extract(archives: string[], destDir: string, opts?: ExtractOptions): Promise<ExtractResult>;
}

export const ExtractErrorCode = {
  /** encrypted entries or headers, and no password was given */
  Encrypted: 'archive_encrypted',
  /** a password was given but it is wrong */
  BadPassword: 'archive_bad_password',
  /** truncated, corrupt, CRC mismatch, or more data than the headers declare */
  Damaged: 'archive_damaged',
  /** an entry would land outside destDir, is a link, or has a forbidden name */
  UnsafeEntry: 'archive_unsafe_entry',
  /** files named as one multi-volume set that do not chain up as one */
  Multivolume: 'archive_multivolume',
  /** a volume of a multi-volume set is not there (the message names it) */
  VolumeMissing: 'archive_volume_missing',
  /** not a plain RAR archive (no signature at the start, SFX, unknown sizes) */
  Unsupported: 'archive_unsupported',
  /** the archive file cannot be opened or read */
  Unreadable: 'archive_unreadable',
  /** destDir is missing, not a folder, or not empty */
  DestInvalid: 'extract_dest_invalid',
  /** the disk filled up (or would, judging by the declared sizes) */
  NoSpace: 'extract_no_space',
  /** the caller's AbortSignal fired */
  Aborted: 'extract_aborted',
  /** anything else: I/O errors, a library bug, the worker dying */
  Failed: 'extract_failed',
} as const;
export type ExtractErrorCode = (typeof ExtractErrorCode)[keyof typeof ExtractErrorCode];

const CODES = new Set<string>(Object.values(ExtractErrorCode));

export function isExtractErrorCode(value: unknown): value is ExtractErrorCode {
  return typeof value === 'string' && CODES.has(value);
}

/** Extraction failed; `code` is stable, `message` is one printable line. */
export class ExtractError extends Error {
  override readonly name = 'ExtractError';
  readonly code: ExtractErrorCode;
  /** base name of the archive concerned, printable */
  readonly archive: string | undefined;
  /** the entry concerned, printable */
  readonly entry: string | undefined;

  constructor(code: ExtractErrorCode, message: string, details: { archive?: string; entry?: string; cause?: unknown } = {}) {
    super(printable(message, 1000), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.archive = details.archive === undefined ? undefined : printable(details.archive);
    this.entry = details.entry === undefined ? undefined : printable(details.entry);
  }
}

// C0 and C1 controls, DEL, and the bidirectional overrides that can disguise a name.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A name from an archive made safe to show in a terminal or a log: control
 * characters (terminal escapes, newlines) become '?', and it is cut to `max`.
 */
export function printable(text: string, max = 200): string {
  const clean = text.replace(UNPRINTABLE, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
