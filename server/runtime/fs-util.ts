// Small file system helpers whose guarantees other modules rely on.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replace `file` with `data` so that a crash leaves either the old content or
 * the new one: temp file in the same folder, fsync, rename, fsync the folder.
 * `tmpName` fixes the temp file's name (recognisable by scanners and recovery).
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: { tmpName?: string; mode?: number } = {},
): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, opts.tmpName ?? `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w', opts.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Read and parse a JSON file; `undefined` when it does not exist. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  return JSON.parse(text) as unknown;
}

export function isErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    codes.includes((err as NodeJS.ErrnoException).code as string)
  );
}

/**
 * Atomic replacements of one file, one after another, each writing what
 * `content()` gives when its turn comes (so the last write holds the newest
 * state). A failed write goes to `onError` and does not stop later ones.
 */
export class SerialFileWriter {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  write(content: () => string): Promise<void> {
    this.tail = this.tail.then(() => writeFileAtomic(this.file, content())).catch(this.onError);
    return this.tail;
  }

  /** Wait for the writes in flight. */
  flush(): Promise<void> {
    return this.tail;
  }
}
