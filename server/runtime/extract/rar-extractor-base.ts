// What DiskExtractor and StreamExtractor share: unrar may open only the
// volumes of the archive it was given, by the names it derives from the first
// (any other name, e.g. a volume that is not there, is recorded in
// `foreignOpen` and refused), each header is matched against the preflight's
// plan, in order, before unrar touches it, a file entry must have been created
// as a regular file and end with exactly the bytes its header declared, the
// first failure a hook hits is kept in `failure`, and whatever unrar left open
// can be closed by dispose(). Where the bytes go is up to the subclass.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Extractor, type SeekMethod } from 'node-unrar-js';
import type { UnrarModule } from './rar-library.js';
import type { VolumeFile } from './rar-volume-scan.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

/** An entry the preflight approved, in archive order. */
export interface PlannedEntry {
  /** the name as the library reports it (what it will ask to create) */
  name: string;
  /** safe path components under the destination */
  segments: string[];
  directory: boolean;
  /** declared unpacked size */
  size: number;
  /**
   * Set for a file stored without compression, whole in one volume, in a
   * plain archive: where its bytes are and the CRC32 they must have, so the
   * disk extractor can copy them itself instead of through unrar.
   */
  copy?: { path: string; offset: number; crc32: number };
}

/** A file unrar has open: the archive it reads, or (`output`) a file the disk extractor writes. */
export interface ArchiveHandle {
  fd: number;
  pos: number;
  size: number;
  output?: true;
}

export abstract class PlannedExtractor<E extends PlannedEntry> extends Extractor {
  protected _filePath: string;
  protected readonly handles = new Map<number, ArchiveHandle>();
  protected current: E | null = null;
  /** bytes unrar wrote for the current entry */
  protected written = 0;
  /** whether unrar created the current entry as a file */
  protected created = false;
  /** the first error one of the hooks hit; it wins over what unrar reports */
  failure: ExtractError | null = null;
  /** a file other than the set's volumes that unrar tried to open (a missing volume) */
  foreignOpen: string | null = null;
  /** the volume unrar opened last, for messages */
  volumeLabel: string;
  private readonly volumes: Map<string, VolumeFile>;

  /** `volumes`: the archive's files, first volume first (one file for a plain archive). */
  constructor(
    protected readonly lib: UnrarModule,
    volumes: VolumeFile[],
    protected readonly label: string,
    password: string,
  ) {
    super(lib, password);
    this.volumes = new Map(volumes.map((v) => [v.name, v]));
    this._filePath = volumes[0]!.name;
    this.volumeLabel = volumes[0]!.label;
    // The Emscripten glue calls back into whichever extractor is registered here.
    lib.extractor = this;
  }

  /**
   * Called once a header has matched its planned entry, before unrar extracts
   * it; `false` means the subclass has produced the entry itself and unrar skips it.
   */
  protected abstract beginEntry(entry: E): boolean | void;

  /** Called when a file entry ended complete. */
  protected endFile(_entry: E): void {}

  /** How a failure to open or read the archive is reported. */
  protected archiveFailed(err: unknown, doing: 'opening' | 'reading'): void {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const message =
      doing === 'opening'
        ? `archive "${this.volumeLabel}" cannot be opened: ${code}`
        : `reading archive "${this.volumeLabel}" failed: ${code}`;
    this.fail(ExtractErrorCode.Unreadable, message, err);
  }

  // ---- the callbacks unrar makes (through the Emscripten glue) to read the archive ----

  protected open(filename: string): number {
    const volume = this.volumes.get(filename);
    if (!volume) {
      // unrar looks for a volume the set does not have; the preflight should have caught it
      this.foreignOpen ??= filename;
      return 0;
    }
    this.volumeLabel = volume.label;
    try {
      const fd = openSync(volume.path, 'r');
      this.handles.set(fd, { fd, pos: 0, size: fstatSync(fd).size });
      return fd;
    } catch (err) {
      this.archiveFailed(err, 'opening');
      return 0;
    }
  }

  protected read(fd: number, buf: number, size: number): number {
    const handle = this.handles.get(fd);
    if (!handle || handle.output) return -1;
    try {
      const n = readSync(fd, this.lib.HEAPU8, buf, size, handle.pos);
      handle.pos += n;
      return n;
    } catch (err) {
      this.archiveFailed(err, 'reading');
      return -1;
    }
  }

  /** Extract the archive; `plan` must be the library's own listing of it, in order. */
  extractPlanned(plan: E[]): void {
    let index = 0;
    const { files } = this.extract({
      files: (header) => {
        this.finishEntry();
        const entry = plan[index++];
        if (!entry || entry.name !== header.name) {
          throw this.fail(ExtractErrorCode.Damaged, `archive "${this.label}" changed while it was being extracted`);
        }
        this.current = entry;
        this.written = 0;
        this.created = false;
        return this.beginEntry(entry) !== false;
      },
    });
    for (const _ of files) {
      // the work happens in the hooks; reading the iterator to its end closes the archive
    }
    this.finishEntry();
    if (index !== plan.length) {
      throw this.fail(ExtractErrorCode.Damaged, `archive "${this.label}" has fewer entries than its listing`);
    }
  }

  /** Close whatever unrar left open (it does not on errors). */
  dispose(): void {
    for (const [fd] of this.handles) closeQuietly(fd);
    this.handles.clear();
  }

  private finishEntry(): void {
    const entry = this.current;
    this.current = null;
    if (!entry || entry.directory) return;
    if (!this.created) {
      throw this.fail(
        ExtractErrorCode.UnsafeEntry,
        `archive "${this.label}": entry "${entry.name}" was not extracted as a regular file (link or special entry)`,
      );
    }
    if (this.written !== entry.size) {
      throw this.fail(
        ExtractErrorCode.Damaged,
        `archive "${this.label}": entry "${entry.name}" has ${this.written} bytes, its header says ${entry.size}`,
      );
    }
    this.endFile(entry);
  }

  protected fail(code: ExtractErrorCode, message: string, cause?: unknown): ExtractError {
    const err = new ExtractError(code, message, {
      archive: this.label,
      ...(this.current ? { entry: this.current.name } : {}),
      ...(cause === undefined ? {} : { cause }),
    });
    this.failure ??= err;
    return err;
  }

  /** Move within an open archive handle; false when that would leave the file. */
  protected seekHandle(fd: number, pos: number, method: SeekMethod): boolean {
    const handle = this.handles.get(fd);
    if (!handle) return false;
    const base = method === 'SET' ? 0 : method === 'END' ? handle.size : handle.pos;
    const next = base + pos;
    if (next < 0 || next > handle.size) return false;
    handle.pos = next;
    return true;
  }

  protected closeHandle(fd: number): void {
    if (this.handles.delete(fd)) closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
