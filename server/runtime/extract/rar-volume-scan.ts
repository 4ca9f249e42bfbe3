// One archive as the extractor sees it: a single file, or every volume of a
// multi-volume set (rar-volumes.ts says which files by name). The headers of
// each volume are read on their own (rar-headers.ts) and joined into one
// listing: a file split across volumes is one entry, whose CRC32 is the one
// its last part carries (earlier parts carry the CRC of their packed piece).
// A set is accepted only when the volumes chain up: each but the last says
// another follows, each after the first is a volume, and every split file is
// continued by the next volume. A missing volume is named.
import path from 'node:path';
import type { ArchiveScan, ScannedEntry } from './rar-headers.js';
import { groupVolumeSets } from './rar-volumes.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

/** One file of a set: the name unrar derives volume names from, what is opened, and how it is shown. */
export interface VolumeFile {
  name: string;
  path: string;
  label: string;
}

export interface ArchiveSet {
  volumes: VolumeFile[];
  /** printable name of the set (its first volume) */
  label: string;
  /** name of the first volume the numbering says is not there */
  missing: string | null;
  /** name the volume after the last one would have */
  next: string;
}

/** An entry of a set: `volume` is the index of the volume its header (its first part) is in. */
export interface JoinedEntry extends ScannedEntry {
  volume: number;
}

/** The joined listing of a set. */
export interface SetScan {
  format: ArchiveScan['format'];
  headersEncrypted: boolean;
  /** any volume says the archive is solid */
  solid: boolean;
  entries: JoinedEntry[];
}

/** Group archive files into sets (a file that is no volume is a set of one), in the order of their first volumes. */
export function volumeSets(files: VolumeFile[]): ArchiveSet[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  return groupVolumeSets(files.map((f) => f.name)).map((set) => {
    const volumes = set.volumes.map((n) => byName.get(n)!);
    return { volumes, label: volumes[0]!.label, missing: set.missing, next: set.next };
  });
}

/** Read every volume's headers (with `scanOne`) and join them; throws an ExtractError naming the volume at fault. */
export function scanVolumeSet(set: ArchiveSet, scanOne: (volume: VolumeFile) => ArchiveScan): SetScan {
  if (set.missing !== null) throw volumeMissing(set, set.missing);
  const scans: ArchiveScan[] = [];
  for (const volume of set.volumes) {
    const scan = scanOne(volume);
    scans.push(scan);
    // encrypted headers hide the volume chain; the caller refuses them without a password
    if (scan.headersEncrypted) return { format: scan.format, headersEncrypted: true, solid: scan.solid, entries: joinEntries(set, scans) };
  }
  const first = scans[0]!;
  if (first.laterVolume) {
    throw new ExtractError(
      ExtractErrorCode.VolumeMissing,
      `archive "${set.label}" is a later volume of a set whose first volume is missing`,
      {
        archive: set.label,
      },
    );
  }
  scans.forEach((scan, i) => {
    const volume = set.volumes[i]!;
    if (i > 0 && !scan.volume) throw notOneSet(set, `"${volume.label}" is not a volume`);
    if (i < scans.length - 1 && !scan.moreVolumes) {
      throw notOneSet(set, `"${set.volumes[i + 1]!.label}" follows "${volume.label}", which is the last volume`);
    }
  });
  if (scans[scans.length - 1]!.moreVolumes) throw volumeMissing(set, set.next);
  return { format: first.format, headersEncrypted: false, solid: scans.some((s) => s.solid), entries: joinEntries(set, scans) };
}

/** Name `name` (a sibling of the set's files) the way the set's label shows its folder. */
export function labelFor(set: ArchiveSet, name: string): string {
  const first = set.volumes[0]!;
  return `${first.label.slice(0, first.label.length - path.basename(first.name).length)}${path.basename(name)}`;
}

export function volumeMissing(set: ArchiveSet, name: string): ExtractError {
  const missing = labelFor(set, name);
  return new ExtractError(ExtractErrorCode.VolumeMissing, `archive "${set.label}": its volume "${missing}" is missing`, {
    archive: missing,
  });
}

function notOneSet(set: ArchiveSet, why: string): ExtractError {
  return new ExtractError(ExtractErrorCode.Multivolume, `archive "${set.label}": its volumes do not form one set (${why})`, {
    archive: set.label,
  });
}

function joinEntries(set: ArchiveSet, scans: ArchiveScan[]): JoinedEntry[] {
  const entries: JoinedEntry[] = [];
  let open: JoinedEntry | null = null;
  scans.forEach((scan, i) => {
    const label = set.volumes[i]!.label;
    for (const part of scan.entries) {
      if (part.splitBefore) {
        if (!open || open.name !== part.name || open.unpackedSize !== part.unpackedSize) {
          throw new ExtractError(
            ExtractErrorCode.Damaged,
            `archive "${label}": entry "${part.name}" continues no file of the volume before`,
            {
              archive: label,
              entry: part.name,
            },
          );
        }
        open.encrypted ||= part.encrypted;
        open.link ??= part.link;
        open.stored = false; // its data is in pieces across volumes: only unrar joins them
        if (!part.splitAfter) open.crc32 = part.crc32;
      } else {
        if (open) {
          throw new ExtractError(ExtractErrorCode.Damaged, `archive "${label}": entry "${open.name}" is cut off at the end of a volume`, {
            archive: label,
            entry: open.name,
          });
        }
        entries.push({ ...part, volume: i, splitBefore: false, splitAfter: false, crc32: part.splitAfter ? null : part.crc32 });
      }
      open = part.splitAfter ? entries[entries.length - 1]! : null;
    }
  });
  return entries;
}
