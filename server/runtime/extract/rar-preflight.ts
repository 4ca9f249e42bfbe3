// Decides, before a byte is written, whether an archive may be extracted at
// all. Two independent readings must both pass: our own header scan (sees
// volumes, encryption and link records the library hides) and the library's
// listing (the names it will actually ask to create). Any link, unsafe name,
// missing or mismatched volume, or encryption without a password refuses the
// whole archive. A multi-volume set is one archive: both readings go through
// all of its volumes (rar-volume-scan.ts).
import { checkEntryPath } from './extract-entry-path.js';
import { DiskExtractor, type PlannedEntry } from './rar-disk-extractor.js';
import { openFileSource, RarScanError, scanRarArchive, type ArchiveScan, type ScannedEntry } from './rar-headers.js';
import { fromLibraryError, type UnrarModule } from './rar-library.js';
import { scanVolumeSet, volumeMissing, type ArchiveSet, type SetScan, type VolumeFile } from './rar-volume-scan.js';
import { ExtractError, ExtractErrorCode } from './unpacker.js';

export interface ArchivePlan {
  /** the archive's files, first volume first */
  volumes: VolumeFile[];
  /** printable name for messages (the first volume's) */
  label: string;
  entries: PlannedEntry[];
  /** our own reading of the same entries, in the same order (CRC32 of split files joined) */
  scanned: ScannedEntry[];
  /** sum of the declared sizes of its files */
  bytes: number;
  /** whether a password is needed, so a BAD_DATA can be blamed on it */
  encrypted: boolean;
}

const LINK_TEXT = {
  symlink: 'is a symbolic link',
  hardlink: 'is a hard link',
  junction: 'is a directory junction',
  file_copy: 'is a reference to another file',
} as const;

export function planArchive(lib: UnrarModule, set: ArchiveSet, password: string | undefined, maxDictionaryBytes: number): ArchivePlan {
  const label = set.label;
  const scan = scanVolumeSet(set, (v) => scanArchive(v.path, v.label));
  const encrypted = scan.headersEncrypted || scan.entries.some((e) => e.encrypted);
  checkScan(scan, label, password, maxDictionaryBytes);

  // listing only: nothing is created, so there is no destination to give it
  const extractor = new DiskExtractor(lib, set.volumes, label, '/nonexistent', password ?? '', { onBytes() {} });
  let headers: ReturnType<DiskExtractor['listHeaders']>;
  try {
    headers = extractor.listHeaders();
  } catch (err) {
    if (extractor.foreignOpen !== null) throw volumeMissing(set, extractor.foreignOpen);
    throw extractor.failure ?? fromLibraryError(err, { archive: extractor.volumeLabel, triedPassword: encrypted && !!password });
  } finally {
    extractor.dispose();
  }
  if (extractor.foreignOpen !== null) throw volumeMissing(set, extractor.foreignOpen);
  if (!scan.headersEncrypted && scan.entries.length !== headers.length) {
    // The two readers disagree: one of them is being fooled, so trust neither.
    throw new ExtractError(
      ExtractErrorCode.Damaged,
      `archive "${label}": its headers list ${scan.entries.length} entries to one reader and ${headers.length} to another`,
      { archive: label },
    );
  }

  const entries: PlannedEntry[] = [];
  let bytes = 0;
  for (const header of headers) {
    const checked = checkEntryPath(header.name);
    if (!checked.ok) throw unsafe(label, header.name, checked.detail);
    if (header.flags.encrypted && !password) throw encryptedError(label);
    const size = header.flags.directory ? 0 : header.unpSize;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new ExtractError(ExtractErrorCode.Unsupported, `archive "${label}": entry "${header.name}" has no usable size`, {
        archive: label,
        entry: header.name,
      });
    }
    const scanned = scan.entries[entries.length];
    const copy =
      scanned &&
      !scan.solid &&
      !encrypted &&
      scanned.stored &&
      !header.flags.directory &&
      scanned.crc32 !== null &&
      size > 0 &&
      scanned.unpackedSize === size &&
      scanned.packedSize === size
        ? { path: set.volumes[scanned.volume]!.path, offset: scanned.dataOffset, crc32: scanned.crc32 }
        : undefined;
    entries.push({ name: header.name, segments: checked.segments, directory: header.flags.directory, size, ...(copy ? { copy } : {}) });
    bytes += size;
  }
  return { volumes: set.volumes, label, entries, scanned: scan.entries, bytes, encrypted };
}

function scanArchive(archivePath: string, label: string): ArchiveScan {
  let source: ReturnType<typeof openFileSource>;
  try {
    source = openFileSource(archivePath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ExtractError(ExtractErrorCode.Unreadable, `archive "${label}" cannot be read (${code})`, {
      archive: label,
      cause: err,
    });
  }
  try {
    return scanRarArchive(source);
  } catch (err) {
    if (!(err instanceof RarScanError)) throw err;
    const code = err.code === 'damaged' ? ExtractErrorCode.Damaged : ExtractErrorCode.Unsupported;
    throw new ExtractError(code, `archive "${label}": ${err.message}`, { archive: label, cause: err });
  } finally {
    source.close();
  }
}

function checkScan(scan: SetScan, label: string, password: string | undefined, maxDictionaryBytes: number): void {
  for (const entry of scan.entries) {
    if (entry.link) throw unsafe(label, entry.name, LINK_TEXT[entry.link]);
    const checked = checkEntryPath(entry.name);
    if (!checked.ok) throw unsafe(label, entry.name, checked.detail);
  }
  if (!password && (scan.headersEncrypted || scan.entries.some((e) => e.encrypted))) throw encryptedError(label);
  for (const entry of scan.entries) {
    if (entry.dictionaryBytes > maxDictionaryBytes) {
      // unrar allocates (and touches) the whole window: a 300-byte archive could ask for 4 GB
      const mib = (n: number): string => `${Math.round(n / 2 ** 20)} MiB`;
      throw new ExtractError(
        ExtractErrorCode.Unsupported,
        `archive "${label}": entry "${entry.name}" needs a ${mib(entry.dictionaryBytes)} dictionary, over the ${mib(maxDictionaryBytes)} limit`,
        { archive: label, entry: entry.name },
      );
    }
    if (!entry.directory && entry.unpackedSize === null) {
      throw new ExtractError(ExtractErrorCode.Unsupported, `archive "${label}": entry "${entry.name}" has an unknown size`, {
        archive: label,
        entry: entry.name,
      });
    }
  }
}

function encryptedError(label: string): ExtractError {
  return new ExtractError(ExtractErrorCode.Encrypted, `archive "${label}" is encrypted and no password was given`, {
    archive: label,
  });
}

function unsafe(label: string, name: string, why: string): ExtractError {
  return new ExtractError(ExtractErrorCode.UnsafeEntry, `archive "${label}": entry "${name}" ${why}`, {
    archive: label,
    entry: name,
  });
}
