// One extraction job, run inside the worker: the archives are grouped into
// multi-volume sets (a plain archive is a set of one), every set is preflighted
// before the first is extracted (a refusal anywhere writes nothing), the
// declared total is checked against the free space, the archives are extracted
// in order, and the resulting tree is verified on disk before success is reported.
import { readdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DiskExtractor } from './rar-disk-extractor.js';
import { verifyTree } from './extract-verify.js';
import { fromLibraryError, loadUnrar, type UnrarModule } from './rar-library.js';
import { planArchive, type ArchivePlan } from './rar-preflight.js';
import { volumeMissing, volumeSets, type ArchiveSet } from './rar-volume-scan.js';
import type { ExtractJob } from './rar-worker-protocol.js';
import { ExtractError, ExtractErrorCode, printable, type ExtractProgress, type ExtractResult } from './unpacker.js';

export async function runExtractJob(job: ExtractJob, report: (p: ExtractProgress) => void): Promise<ExtractResult> {
  const root = checkDestination(job.destDir);
  const lib = await loadUnrar();
  const sets = volumeSets(job.archives.map((a) => ({ name: a, path: a, label: path.basename(a) })));
  const plans = sets.map((set) => ({ set, plan: planArchive(lib, set, job.password, job.maxDictionaryBytes) }));
  const bytesTotal = plans.reduce((sum, p) => sum + p.plan.bytes, 0);
  if (job.checkFreeSpace) checkFreeSpace(root, bytesTotal);

  let bytesDone = 0;
  let lastReport = 0;
  report({ bytesDone, bytesTotal });
  for (const { set, plan } of plans) {
    extractArchive(lib, set, plan, root, job.password, (count, entry) => {
      bytesDone += count;
      const now = Date.now();
      if (now - lastReport >= job.progressIntervalMs) {
        lastReport = now;
        report({ bytesDone, bytesTotal, entry: printable(entry) });
      }
    });
  }
  const tree = verifyTree(root);
  report({ bytesDone, bytesTotal });
  return { files: tree.files, bytes: tree.bytes };
}

function extractArchive(
  lib: UnrarModule,
  set: ArchiveSet,
  plan: ArchivePlan,
  root: string,
  password: string | undefined,
  onBytes: (count: number, entry: string) => void,
): void {
  const extractor = new DiskExtractor(lib, plan.volumes, plan.label, root, password ?? '', {
    onBytes: (count, entry) => onBytes(count, entry.name),
  });
  try {
    extractor.extractPlanned(plan.entries);
  } catch (err) {
    if (extractor.failure) throw extractor.failure;
    if (extractor.foreignOpen !== null) throw volumeMissing(set, extractor.foreignOpen);
    throw fromLibraryError(err, { archive: extractor.volumeLabel, triedPassword: plan.encrypted && !!password });
  } finally {
    extractor.dispose();
  }
}

function checkDestination(destDir: string): string {
  try {
    if (!statSync(destDir).isDirectory()) throw new Error('not a folder');
    if (readdirSync(destDir).length > 0) throw new Error('not empty');
    return realpathSync(destDir);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ExtractError(ExtractErrorCode.DestInvalid, `destination folder is unusable (${why})`, { cause: err });
  }
}

function checkFreeSpace(root: string, bytesTotal: number): void {
  const fs = statfsSync(root);
  const free = fs.bavail * fs.bsize;
  if (free < bytesTotal) {
    throw new ExtractError(ExtractErrorCode.NoSpace, `not enough free space: the archives need ${bytesTotal} bytes, ${free} are free`);
  }
}
