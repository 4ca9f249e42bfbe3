// One streamed extraction, run inside its worker: the archives are grouped
// into multi-volume sets and every set passes the same preflight as a disk
// extraction (rar-preflight.ts: links, unsafe names, missing volumes,
// encryption and oversized dictionaries are refused) before the
// first record is produced, each entry gets the CRC32 its header carries,
// then the archives are extracted in order into the ring, which blocks this
// thread whenever the consumer is behind.
import { fromLibraryError, loadUnrar, type UnrarModule } from './rar-library.js';
import { planArchive, type ArchivePlan } from './rar-preflight.js';
import { volumeMissing, volumeSets, type ArchiveSet } from './rar-volume-scan.js';
import { StreamExtractor, type EntrySink, type StreamEntry } from './rar-stream-extractor.js';
import { RecordKind, type StreamJob, type StreamPlan } from './rar-stream-protocol.js';
import { RingClosedError, RingProducer } from './rar-stream-ring.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

interface PlannedArchive {
  set: ArchiveSet;
  plan: ArchivePlan;
  label: string;
  entries: StreamEntry[];
}

export async function runStreamJob(job: StreamJob, onPlan: (plan: StreamPlan) => void): Promise<void> {
  const lib = await loadUnrar();
  // unrar derives the next volume's name from the first's, so it sees the served names, never the pinned paths
  const sets = volumeSets(job.archives.map((a) => ({ name: a.label, path: a.path, label: a.label })));
  const archives = sets.map((set) => planStream(lib, set, job.maxDictionaryBytes));
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
  const extractor = new StreamExtractor(lib, a.plan.volumes, a.label, sink);
  try {
    extractor.extractPlanned(a.entries);
  } catch (err) {
    if (extractor.failure) throw extractor.failure;
    if (err instanceof RingClosedError)
      throw new ExtractError(ExtractErrorCode.Aborted, 'the streamed extraction was stopped by its consumer');
    if (extractor.foreignOpen !== null) throw volumeMissing(a.set, extractor.foreignOpen);
    throw fromLibraryError(err, { archive: extractor.volumeLabel, triedPassword: false });
  } finally {
    extractor.dispose();
  }
}

/** The preflight, plus every entry's CRC32 from our own header scan (the library's listing has no "none"). */
function planStream(lib: UnrarModule, set: ArchiveSet, maxDictionaryBytes: number): PlannedArchive {
  const plan = planArchive(lib, set, undefined, maxDictionaryBytes);
  const entries = plan.entries.map((e, i): StreamEntry => {
    const s = plan.scanned[i]!;
    if (s.directory !== e.directory || (!e.directory && s.unpackedSize !== e.size)) {
      throw new ExtractError(ExtractErrorCode.Damaged, `archive "${set.label}": entry "${e.name}" differs between its two listings`, {
        archive: set.label,
        entry: e.name,
      });
    }
    return { ...e, crc32: e.directory ? null : s.crc32 };
  });
  return { set, plan, label: set.label, entries };
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
