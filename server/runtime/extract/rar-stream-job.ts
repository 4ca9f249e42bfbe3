// One streamed extraction, run inside its worker: every archive passes the
// same preflight as a disk extraction (rar-preflight.ts: links, unsafe names,
// volumes, encryption and oversized dictionaries are refused) before the
// first record is produced, each entry gets the CRC32 its header carries,
// then the archives are extracted in order into the ring, which blocks this
// thread whenever the consumer is behind.
import path from 'node:path';
import { fromLibraryError, loadUnrar, type UnrarModule } from './rar-library.js';
import { openFileSource, scanRarArchive } from './rar-headers.js';
import { planArchive, type ArchivePlan } from './rar-preflight.js';
import { StreamExtractor, type EntrySink, type StreamEntry } from './rar-stream-extractor.js';
import { RecordKind, type StreamArchive, type StreamJob, type StreamPlan } from './rar-stream-protocol.js';
import { RingClosedError, RingProducer } from './rar-stream-ring.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

interface PlannedArchive {
  plan: ArchivePlan;
  label: string;
  entries: StreamEntry[];
}

export async function runStreamJob(job: StreamJob, onPlan: (plan: StreamPlan) => void): Promise<void> {
  const lib = await loadUnrar();
  const archives = job.archives.map((a) => planStream(lib, a, job.maxDictionaryBytes));
  const totals: StreamPlan = { archives: archives.length, files: 0, dirs: 0, bytes: 0 };
  for (const a of archives) {
    for (const e of a.entries) {
      if (e.directory) totals.dirs++;
      else totals.files++;
    }
    totals.bytes += a.plan.bytes;
  }
  onPlan(totals);

  const ring = new RingProducer(job.ring);
  const chunk = Math.min(job.chunkBytes, ring.maxPayload);
  const encoder = new TextEncoder();
  const control = (kind: number, value: unknown): void => ring.write(kind, encoder.encode(JSON.stringify(value)));
  const done = { files: 0, dirs: 0, bytes: 0 };
  const sink: EntrySink = {
    file: (e) => control(RecordKind.File, { path: e.segments.join('/'), size: e.size, crc32: e.crc32 === null ? null : hex32(e.crc32) }),
    dir: (e) => {
      control(RecordKind.Dir, { path: e.segments.join('/') });
      done.dirs++;
    },
    data: (bytes) => {
      for (let at = 0; at < bytes.length; at += chunk) ring.write(RecordKind.Data, bytes.subarray(at, at + chunk));
      done.bytes += bytes.length;
    },
    fileEnd: () => {
      ring.write(RecordKind.FileEnd);
      done.files++;
    },
  };
  for (const a of archives) streamArchive(lib, a, sink);
  control(RecordKind.End, done);
  ring.finish();
}

function streamArchive(lib: UnrarModule, a: PlannedArchive, sink: EntrySink): void {
  const extractor = new StreamExtractor(lib, a.plan.path, a.label, sink);
  try {
    extractor.extractPlanned(a.entries);
  } catch (err) {
    if (extractor.failure) throw extractor.failure;
    if (err instanceof RingClosedError)
      throw new ExtractError(ExtractErrorCode.Aborted, 'the streamed extraction was stopped by its consumer');
    if (extractor.foreignOpen !== null) {
      throw new ExtractError(ExtractErrorCode.Multivolume, `archive "${a.label}" continues in another volume`, { archive: a.label });
    }
    throw fromLibraryError(err, { archive: a.label, triedPassword: false });
  } finally {
    extractor.dispose();
  }
}

/** The preflight, plus every entry's CRC32 from our own header scan (the library's listing has no "none"). */
function planStream(lib: UnrarModule, archive: StreamArchive, maxDictionaryBytes: number): PlannedArchive {
  try {
    const plan = planArchive(lib, archive.path, undefined, maxDictionaryBytes);
    const source = openFileSource(archive.path);
    let scanned;
    try {
      scanned = scanRarArchive(source).entries;
    } finally {
      source.close();
    }
    if (scanned.length !== plan.entries.length) {
      throw new ExtractError(ExtractErrorCode.Damaged, `archive "${archive.label}": its two listings disagree`, { archive: archive.label });
    }
    const entries = plan.entries.map((e, i): StreamEntry => {
      const s = scanned[i]!;
      if (s.directory !== e.directory || (!e.directory && s.unpackedSize !== e.size)) {
        throw new ExtractError(ExtractErrorCode.Damaged, `archive "${archive.label}": entry "${e.name}" differs between its two listings`, {
          archive: archive.label,
          entry: e.name,
        });
      }
      return { ...e, crc32: e.directory ? null : s.crc32 };
    });
    return { plan, label: archive.label, entries };
  } catch (err) {
    throw relabel(err, archive);
  }
}

/** The preflight names an archive by its path's base name; put the printable label in its place. */
function relabel(err: unknown, archive: StreamArchive): unknown {
  const base = path.basename(archive.path);
  if (!(err instanceof ExtractError) || base === archive.label) return err;
  return new ExtractError(err.code, err.message.split(`"${base}"`).join(`"${archive.label}"`), {
    archive: archive.label,
    ...(err.entry === undefined ? {} : { entry: err.entry }),
    cause: err,
  });
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
