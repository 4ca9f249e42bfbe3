// Gives unrar its file I/O so that every byte it writes goes where the plan
// says and nowhere else: it may open only the volumes of the archive it was
// given (never any other file), it may create only the entry being extracted, at the path
// the plan validated, through directories that are real folders inside the
// destination, and never more bytes than that entry's header declared. Data
// moves between the WASM heap and the disk without intermediate copies. A
// file stored uncompressed, whole in one volume of a plain archive, is copied
// by us through the same create and write steps, and checked against the CRC32
// its header declares: unrar would only move the same bytes more slowly.
import { closeSync, constants, lstatSync, mkdirSync, openSync, readSync, realpathSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { FileHeader, SeekMethod } from 'node-unrar-js';
import { isInside } from './extract-verify.js';
import { PlannedExtractor, type PlannedEntry } from './rar-extractor-base.js';
import type { UnrarModule } from './rar-library.js';
import type { VolumeFile } from './rar-volume-scan.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

export type { PlannedEntry } from './rar-extractor-base.js';

export interface DiskExtractorHooks {
  /** called after every successful write with the number of bytes written */
  onBytes(count: number, entry: PlannedEntry): void;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
/** bytes per read and write when copying a stored file */
const COPY_BYTES = 1024 * 1024;

export class DiskExtractor extends PlannedExtractor<PlannedEntry> {
  private readonly verifiedDirs = new Set<string>();

  constructor(
    lib: UnrarModule,
    volumes: VolumeFile[],
    label: string,
    private readonly root: string,
    password: string,
    private readonly hooks: DiskExtractorHooks,
  ) {
    super(lib, volumes, label, password);
  }

  /** Every header as the library reads it, without extracting anything. */
  listHeaders(): FileHeader[] {
    const { fileHeaders } = this.getFileList();
    // Read to the end: an abandoned iterator leaves the archive open.
    return [...fileHeaders];
  }

  /** A folder entry is created as soon as its header is reached; a stored file is copied here (unrar skips it). */
  protected beginEntry(entry: PlannedEntry): boolean {
    if (entry.directory) this.ensureDir(entry.segments);
    if (!entry.copy) return true;
    this.copyStored(entry, entry.copy);
    return false;
  }

  private copyStored(entry: PlannedEntry, from: NonNullable<PlannedEntry['copy']>): void {
    const out = this.create(entry.name);
    let source: number;
    try {
      source = openSync(from.path, 'r');
    } catch (err) {
      throw this.ioFailure(err, 'opening the archive for');
    }
    try {
      const buffer = Buffer.allocUnsafe(Math.min(COPY_BYTES, entry.size));
      let crc = 0;
      while (this.written < entry.size) {
        let n: number;
        try {
          n = readSync(source, buffer, 0, Math.min(buffer.length, entry.size - this.written), from.offset + this.written);
        } catch (err) {
          throw this.ioFailure(err, 'reading the archive for');
        }
        if (n === 0) throw this.fail(ExtractErrorCode.Damaged, `archive "${this.label}": entry "${entry.name}" is cut short`);
        const piece = buffer.subarray(0, n);
        crc = crc32(piece, crc);
        this.put(out, piece);
      }
      if (crc >>> 0 !== from.crc32) {
        throw this.fail(ExtractErrorCode.Damaged, `archive "${this.label}": entry "${entry.name}" does not match its CRC32`);
      }
    } finally {
      closeSync(source);
      this.closeFile(out);
    }
  }

  private ioFailure(err: unknown, doing: string): ExtractError {
    if (err instanceof ExtractError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    const name = this.current ? ` "${this.current.name}"` : '';
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return this.fail(ExtractErrorCode.NoSpace, `no space left on the disk while ${doing}${name}`, err);
    }
    return this.fail(ExtractErrorCode.Failed, `${doing}${name} failed: ${code ?? String(err)}`, err);
  }

  /** mkdir -p under root, one level at a time, refusing anything that is not a real folder. */
  private ensureDir(segments: string[]): string {
    let dir = this.root;
    for (const segment of segments) {
      dir = path.join(dir, segment);
      if (this.verifiedDirs.has(dir)) continue;
      try {
        mkdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw this.ioFailure(err, 'creating the folder of');
      }
      if (!lstatSync(dir).isDirectory() || !isInside(this.root, realpathSync(dir))) {
        throw this.fail(ExtractErrorCode.UnsafeEntry, `archive "${this.label}": a file or link is in the way of "${segment}"`);
      }
      this.verifiedDirs.add(dir);
    }
    return dir;
  }

  protected override archiveFailed(err: unknown, doing: 'opening' | 'reading'): void {
    this.ioFailure(err, `${doing} the archive`);
  }

  // ---- the callbacks unrar makes to write (through the Emscripten glue) ----

  protected create(filename: string): number {
    const entry = this.current;
    if (!entry || entry.directory || entry.name !== filename || this.created) {
      throw this.fail(ExtractErrorCode.UnsafeEntry, `archive "${this.label}": unrar asked to create an unexpected file`);
    }
    try {
      const dir = this.ensureDir(entry.segments.slice(0, -1));
      const target = path.join(dir, entry.segments[entry.segments.length - 1]!);
      const fd = openSync(target, CREATE_FLAGS, 0o644);
      this.handles.set(fd, { fd, pos: 0, size: 0, output: true });
      this.created = true;
      return fd;
    } catch (err) {
      throw this.ioFailure(err, 'creating');
    }
  }

  protected write(fd: number, buf: number, size: number): boolean {
    // HEAPU8 is read now: the WASM memory may have grown since the last call
    this.put(fd, this.lib.HEAPU8.subarray(buf, buf + size));
    return true;
  }

  /** Append `bytes` to the entry being written, never past the size its header declares. */
  private put(fd: number, bytes: Uint8Array): void {
    const handle = this.handles.get(fd);
    const entry = this.current;
    if (!handle?.output || !entry) {
      throw this.fail(ExtractErrorCode.Failed, `archive "${this.label}": write to an unknown file`);
    }
    const size = bytes.length;
    if (this.written + size > entry.size) {
      throw this.fail(ExtractErrorCode.Damaged, `archive "${this.label}": entry "${entry.name}" holds more data than its header declares`);
    }
    try {
      for (let done = 0; done < size;) done += writeSync(fd, bytes, done, size - done, handle.pos + done);
    } catch (err) {
      throw this.ioFailure(err, 'writing');
    }
    handle.pos += size;
    handle.size = Math.max(handle.size, handle.pos);
    this.written += size;
    this.hooks.onBytes(size, entry);
  }

  protected tell(fd: number): number {
    return this.handles.get(fd)?.pos ?? -1;
  }

  protected seek(fd: number, pos: number, method: SeekMethod): boolean {
    return this.seekHandle(fd, pos, method);
  }

  protected closeFile(fd: number): void {
    this.closeHandle(fd);
  }
}
