// Writes a streamed tree under one root folder (the staging's content folder),
// with the same containment rules as the disk extractor: a path is accepted
// only in its canonical form (every component an ordinary name, see
// extract-entry-path.ts), folders are made one level at a time and must be
// real folders, files are created without following links. The root is fresh
// staging that only this sink writes into, so nothing else can be in the way.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkEntryPath } from '../extract/extract-entry-path.js';
import { DiskFullError, isDiskFull } from '../disk-space.js';
import { isErrno } from '../fs-util.js';
import { protocolError } from './errors.js';

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** The components of a peer-sent path, or a stream_protocol error. */
export function safeSegments(rel: string): string[] {
  const checked = checkEntryPath(rel);
  if (!checked.ok || checked.segments.join('/') !== rel) throw protocolError(`unsafe path "${rel.slice(0, 200)}"`);
  return checked.segments;
}

export class FileSink {
  private readonly verified = new Set<string>();
  private file: fs.FileHandle | null = null;
  private position = 0;

  constructor(private readonly root: string) {}

  async dir(rel: string): Promise<void> {
    await this.ensureDir(safeSegments(rel));
  }

  /** Create (or truncate) a file; bytes then go to it until closeFile(). */
  async openFile(rel: string): Promise<void> {
    const segments = safeSegments(rel);
    const dir = await this.ensureDir(segments.slice(0, -1));
    try {
      this.file = await fs.open(path.join(dir, segments[segments.length - 1]!), CREATE_FLAGS, 0o644);
    } catch (err) {
      if (isErrno(err, 'EISDIR', 'ELOOP', 'ENOTDIR')) throw protocolError(`"${rel}" is both a folder and a file`);
      throw err;
    }
    this.position = 0;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.file) throw protocolError('data outside a file');
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done, this.position + done);
        done += bytesWritten;
      }
    } catch (err) {
      throw isDiskFull(err) ? new DiskFullError('receiving a streamed install', err) : err;
    }
    this.position += bytes.length;
  }

  async closeFile(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.close();
  }

  /** Close whatever is open, ignoring errors (the staging is being thrown away). */
  async dispose(): Promise<void> {
    await this.closeFile().catch(() => undefined);
  }

  private async ensureDir(segments: string[]): Promise<string> {
    let dir = this.root;
    for (const segment of segments) {
      dir = path.join(dir, segment);
      if (this.verified.has(dir)) continue;
      try {
        await fs.mkdir(dir);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      if (!(await fs.lstat(dir)).isDirectory()) throw protocolError(`"${segments.join('/')}" is both a file and a folder`);
      this.verified.add(dir);
    }
    return dir;
  }
}
