// Test archives: the real RAR fixtures kept in test/fixtures/rar/ (overridable
// with LANSPREAD_RAR_FIXTURES), and a tiny writer of stored RAR 5 archives for
// the hostile names no real fixture has. A missing fixture folder fails loudly.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { u32, vint } from '../../bench/install/stored-rar.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The folder holding the RAR fixtures; throws with a clear message when it is absent. */
export function rarFixturesDir(): string {
  const dir = process.env['LANSPREAD_RAR_FIXTURES'] ?? path.join(repoRoot, 'test', 'fixtures', 'rar');
  if (!existsSync(dir)) {
    throw new Error(`RAR fixtures not found at ${dir} (set LANSPREAD_RAR_FIXTURES to the folder holding them)`);
  }
  return dir;
}

export function rarFixture(name: string): string {
  const file = path.join(rarFixturesDir(), name);
  if (!existsSync(file)) throw new Error(`RAR fixture ${name} is missing from ${rarFixturesDir()}`);
  return file;
}

/** Every archive in the fixture folder (.rar and self-extracting .exe). */
export function listRarFixtures(): string[] {
  return readdirSync(rarFixturesDir())
    .filter((name) => name.endsWith('.rar') || name.endsWith('.exe'))
    .sort();
}

/**
 * A RAR 4 volume set named the old way (`stem.rar`, `stem.r00`, `stem.r01` …),
 * made from the volumes of a real set: the "new numbering" flag (0x0010) of
 * each main header is cleared and that header's CRC16 recomputed, so unrar
 * derives the next volume's name the old way. Returns the written paths.
 */
export function oldStyleVolumes(parts: string[], dir: string, stem: string): string[] {
  return parts.map((part, i) => {
    const bytes = readFileSync(part);
    const main = 7; // the main header follows the 7-byte signature
    if (bytes[main + 2] !== 0x73) throw new Error(`${part} has no RAR 4 main header where expected`);
    const size = bytes.readUInt16LE(main + 5);
    bytes.writeUInt16LE(bytes.readUInt16LE(main + 3) & ~0x0010, main + 3);
    bytes.writeUInt16LE(crc32(bytes.subarray(main + 2, main + size)) & 0xffff, main);
    const file = path.join(dir, i === 0 ? `${stem}.rar` : `${stem}.r${String(i - 1).padStart(2, '0')}`);
    writeFileSync(file, bytes);
    return file;
  });
}

// ---------------------------------------------------------------- RAR 5 writer

export interface Rar5Entry {
  name: string;
  data?: string | Uint8Array;
  directory?: boolean;
  /** default 'windows' (attributes 0x20 / 0x10) */
  host?: 'windows' | 'unix';
  attributes?: number;
  /** a file-system redirection record: 1 unix symlink, 2 windows symlink, 3 junction, 4 hard link, 5 file copy */
  redirect?: { type: number; target: string };
  /** put the file-encryption record in (the data stays plain; enough for listing) */
  encryptedFlag?: boolean;
  /** dictionary size as 128 KiB << n (bits 10-13 of the compression information); default 0 */
  dictionaryLog?: number;
}

export interface Rar5Options {
  /** mark the main header as a volume of a set */
  volume?: boolean;
}

/** A stored (uncompressed) RAR 5 archive, byte-exact per the format's technote. */
export function buildRar5(entries: Rar5Entry[], options: Rar5Options = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00])];
  parts.push(block([vint(1), vint(0), vint(options.volume ? 1 : 0)]));
  for (const entry of entries) {
    const data = entry.directory ? Buffer.alloc(0) : Buffer.from(entry.data ?? '');
    const unix = entry.host === 'unix';
    const attributes = entry.attributes ?? (entry.directory ? (unix ? 0o40755 : 0x10) : unix ? 0o100644 : 0x20);
    const extra: Buffer[] = [];
    if (entry.redirect) {
      const target = Buffer.from(entry.redirect.target, 'utf8');
      extra.push(record(5, [vint(entry.redirect.type), vint(0), vint(target.length), target]));
    }
    if (entry.encryptedFlag) {
      extra.push(record(1, [vint(0), vint(0), Buffer.from([15]), Buffer.alloc(16), Buffer.alloc(16)]));
    }
    const extraArea = Buffer.concat(extra);
    const name = Buffer.from(entry.name, 'utf8');
    const fields = [
      vint(2), // file header
      vint(0x0002 | (extraArea.length > 0 ? 0x0001 : 0)), // data area, extra area
      ...(extraArea.length > 0 ? [vint(extraArea.length)] : []),
      vint(data.length),
      vint((entry.directory ? 0x0001 : 0) | 0x0004), // directory, CRC present
      vint(data.length),
      vint(attributes),
      u32(crc32(data)),
      vint((entry.dictionaryLog ?? 0) << 10), // stored, version 0, dictionary
      vint(unix ? 1 : 0),
      vint(name.length),
      name,
      extraArea,
    ];
    parts.push(block(fields), data);
  }
  parts.push(block([vint(5), vint(0), vint(0)]));
  return Buffer.concat(parts);
}

function block(fields: Buffer[]): Buffer {
  const body = Buffer.concat(fields);
  const sized = Buffer.concat([vint(body.length), body]);
  return Buffer.concat([u32(crc32(sized)), sized]);
}

function record(type: number, fields: Buffer[]): Buffer {
  const body = Buffer.concat([vint(type), ...fields]);
  return Buffer.concat([vint(body.length), body]);
}
