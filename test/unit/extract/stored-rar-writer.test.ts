// The bench's generator of stored RAR 5 archives (bench/install/stored-rar.ts)
// is checked against both readers before its figures are trusted: our header
// reader reads back every name, size and CRC32 it wrote, and the unpacker
// extracts exactly those bytes (sizes and CRC32s on disk).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeStoredRar5 } from '../../../bench/install/stored-rar.js';
import { openFileSource, scanRarArchive } from '../../../server/runtime/extract/rar-headers.js';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { tempDir } from '../../helpers/temp-dir.js';

describe('the stored RAR 5 generator of the extraction bench', () => {
  it('writes what the header reader reads back and the unpacker extracts', async () => {
    const dir = await tempDir();
    const archive = path.join(dir, 'stored.rar');
    const entries = [
      { name: 'data/pak0.bin', size: 3 * 1024 * 1024 + 17 },
      { name: 'data/pak1.bin', size: 1 },
      { name: 'readme.txt', size: 1024 * 1024 },
    ];
    const written = writeStoredRar5(archive, entries);
    expect(statSync(archive).size).toBe(written.bytes);

    const source = openFileSource(archive);
    const scan = scanRarArchive(source);
    source.close();
    expect(scan).toMatchObject({ format: 'rar5', volume: false, solid: false, headersEncrypted: false });
    expect(scan.entries.map((e) => [e.name, e.unpackedSize, e.packedSize, e.stored, e.crc32])).toEqual(
      entries.map((e) => [e.name, e.size, e.size, true, written.crc32.get(e.name)]),
    );

    const dest = await tempDir();
    const result = await new RarUnpacker().extract([archive], dest);
    expect(result).toEqual({ files: 3, bytes: entries.reduce((n, e) => n + e.size, 0) });
    for (const e of entries) {
      const bytes = readFileSync(path.join(dest, e.name));
      expect(bytes.length, e.name).toBe(e.size);
      expect(crc32(bytes) >>> 0, e.name).toBe(written.crc32.get(e.name));
    }
  });
});
