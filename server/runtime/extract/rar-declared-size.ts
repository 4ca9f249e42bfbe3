// How many bytes a game's archives will extract to, from their headers alone
// (rar-headers.ts through rar-volume-scan.ts, so a multi-volume set counts
// once): the figure the install checks against the free space before it
// starts. Headers only, a few small reads per entry; an archive whose headers
// cannot be read counts as 0 here and is refused by the extraction itself.
import path from 'node:path';
import { openFileSource, scanRarArchive } from './rar-headers.js';
import { scanVolumeSet, volumeSets } from './rar-volume-scan.js';

export function declaredSize(archives: string[]): number {
  let total = 0;
  for (const set of volumeSets(archives.map((a) => ({ name: a, path: a, label: path.basename(a) })))) {
    try {
      const scan = scanVolumeSet(set, (v) => {
        const source = openFileSource(v.path);
        try {
          return scanRarArchive(source);
        } finally {
          source.close();
        }
      });
      for (const e of scan.entries) if (!e.directory) total += e.unpackedSize ?? 0;
    } catch {
      // damaged, missing a volume, not RAR: the extraction refuses it with its own code
    }
  }
  return total;
}
