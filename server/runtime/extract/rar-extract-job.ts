// One extraction job, run inside the worker: every archive is preflighted
// before the first is extracted (a refusal anywhere writes nothing), the
// declared total is checked against the free space, the archives are extracted
// in order, and the resulting tree is verified on disk before success is reported.
import { readdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { DiskExtractor } from './rar-disk-extractor.js';
import { verifyTree } from './extract-verify.js';
import { fromLibraryError, loadUnrar, type UnrarModule } from './rar-library.js';
import { planArchive, type ArchivePlan } from './rar-preflight.js';
import type { ExtractJob } from './rar-worker-protocol.js';
import { ExtractError, ExtractErrorCode, printable, type ExtractProgress, type ExtractResult } from './unpacker.js';

export async function runExtractJob(job: ExtractJob, report: (p: ExtractProgress) => void): Promise<ExtractResult> {
  const root = checkDestination(job.destDir);
  const lib = await loadUnrar();
  const plans = job.archives.map((archive) => planArchive(lib, archive, job.password, job.maxDictionaryBytes));
  const bytesTotal = plans.reduce((sum, plan) => sum + plan.bytes, 0);
  if (job.checkFreeSpace) checkFreeSpace(root, bytesTotal);

  let bytesDone = 0;
  let lastReport = 0;
  report({ bytesDone, bytesTotal });
  for (const plan of plans) {
    extractArchive(lib, plan, root, job.password, (count, entry) => {
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
  plan: ArchivePlan,
  root: string,
  password: string | undefined,
  onBytes: (count: number, entry: string) => void,
): void {
  const extractor = new DiskExtractor(lib, plan.path, plan.label, root, password ?? '', {
    onBytes: (count, entry) => onBytes(count, entry.name),
  });
  try {
    extractor.extractPlanned(plan.entries);
  } catch (err) {
    if (extractor.failure) throw extractor.failure;
    if (extractor.foreignOpen !== null) {
      throw new ExtractError(ExtractErrorCode.Multivolume, `archive "${plan.label}" continues in another volume`, {
        archive: plan.label,
      });
    }
    throw fromLibraryError(err, { archive: plan.label, triedPassword: plan.encrypted && !!password });
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
