// Gives unrar its I/O for a streamed extraction: it may read only the volumes
// of the archive it was given (never any other file), and what it "writes" goes to a sink
// (the ring to the main thread), never to the disk. As in DiskExtractor, each
// header is matched against the preflight's plan before unrar touches it, an
// entry may receive no more bytes than its header declared, and it must end
// with exactly that many. A sink that blocks blocks unrar with it: that is the
// backpressure; a sink that throws (the transfer was cancelled) stops it.
import type { SeekMethod } from 'node-unrar-js';
import { PlannedExtractor, type PlannedEntry } from './rar-extractor-base.js';
import type { UnrarModule } from './rar-library.js';
import type { VolumeFile } from './rar-volume-scan.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

/** A planned entry with the CRC32 its header carries (null when it has none, e.g. BLAKE2 only). */
export interface StreamEntry extends PlannedEntry {
  crc32: number | null;
}

export interface EntrySink {
  file(entry: StreamEntry): void;
  dir(entry: StreamEntry): void;
  /** the next bytes of the current file; the view is only valid during the call */
  data(bytes: Uint8Array): void;
  fileEnd(entry: StreamEntry): void;
}

/** The descriptor handed to unrar for the entry being extracted; never a real fd. */
const OUTPUT_FD = 0x3fff_fff0;

export class StreamExtractor extends PlannedExtractor<StreamEntry> {
  constructor(
    lib: UnrarModule,
    volumes: VolumeFile[],
    label: string,
    private readonly sink: EntrySink,
  ) {
    super(lib, volumes, label, '');
  }

  protected beginEntry(entry: StreamEntry): void {
    this.guard(() => (entry.directory ? this.sink.dir(entry) : this.sink.file(entry)));
  }

  protected override endFile(entry: StreamEntry): void {
    this.guard(() => this.sink.fileEnd(entry));
  }

  /** Run a sink call; what it throws (a cancel) becomes this extraction's failure. */
  private guard(call: () => void): void {
    try {
      call();
    } catch (err) {
      if (err instanceof ExtractError) {
        this.failure ??= err;
        throw err;
      }
      throw this.fail(ExtractErrorCode.Aborted, 'the streamed extraction was stopped by its consumer', err);
    }
  }

  // ---- the callbacks unrar makes to write (through the Emscripten glue) ----

  protected create(filename: string): number {
    const entry = this.current;
    if (!entry || entry.directory || entry.name !== filename || this.created) {
      throw this.fail(ExtractErrorCode.UnsafeEntry, `archive "${this.label}": unrar asked to create an unexpected file`);
    }
    this.created = true;
    return OUTPUT_FD;
  }

  protected write(fd: number, buf: number, size: number): boolean {
    const entry = this.current;
    if (fd !== OUTPUT_FD || !entry || !this.created) {
      throw this.fail(ExtractErrorCode.Failed, `archive "${this.label}": write to an unknown file`);
    }
    if (this.written + size > entry.size) {
      throw this.fail(ExtractErrorCode.Damaged, `archive "${this.label}": entry "${entry.name}" holds more data than its header declares`);
    }
    // HEAPU8 is read now, not earlier: the WASM memory may have grown.
    this.guard(() => this.sink.data(this.lib.HEAPU8.subarray(buf, buf + size)));
    this.written += size;
    return true;
  }

  protected tell(fd: number): number {
    if (fd === OUTPUT_FD) return this.written;
    return this.handles.get(fd)?.pos ?? -1;
  }

  protected seek(fd: number, pos: number, method: SeekMethod): boolean {
    if (fd === OUTPUT_FD) {
      // a stream cannot go back; only a no-op seek is honoured
      const base = method === 'SET' ? 0 : this.written;
      return base + pos === this.written;
    }
    return this.seekHandle(fd, pos, method);
  }

  protected closeFile(fd: number): void {
    if (fd === OUTPUT_FD) return;
    this.closeHandle(fd);
  }
}
