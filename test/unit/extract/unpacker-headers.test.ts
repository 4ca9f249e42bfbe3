// The independent header reader the unpacker's preflight relies on: it must see
// links, volumes and encryption that the extraction library does not report,
// and refuse headers that do not check out.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { RarScanError, scanRarArchive, type ByteSource } from '../../../server/runtime/extract/rar-headers.js';
import { decodeRar4UnicodeName } from '../../../server/runtime/extract/rar-unicode-name.js';
import { buildRar5, rarFixture, type Rar5Entry } from '../../helpers/fixtures.js';

function source(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (pos, len) => bytes.subarray(pos, Math.min(bytes.length, pos + len)) };
}

const scan = (bytes: Uint8Array) => scanRarArchive(source(bytes));
const scanFixture = (name: string) => scan(readFileSync(rarFixture(name)));

function scanError(bytes: Uint8Array): RarScanError {
  try {
    scan(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(RarScanError);
    return err as RarScanError;
  }
  throw new Error('scan should have failed');
}

describe('scanRarArchive (RAR 5)', () => {
  it('reads names, sizes, CRCs and directories', () => {
    const result = scan(
      buildRar5([
        { name: 'dir/a.txt', data: 'hello' },
        { name: 'dir', directory: true },
      ]),
    );
    expect(result).toMatchObject({ format: 'rar5', volume: false, headersEncrypted: false });
    expect(result.entries).toEqual([
      {
        name: 'dir/a.txt',
        directory: false,
        unpackedSize: 5,
        crc32: 0x3610a686,
        encrypted: false,
        link: null,
        dictionaryBytes: 128 * 1024,
        splitBefore: false,
        splitAfter: false,
        stored: true,
        dataOffset: expect.any(Number),
        packedSize: 5,
      },
      {
        name: 'dir',
        directory: true,
        unpackedSize: 0,
        crc32: 0,
        encrypted: false,
        link: null,
        dictionaryBytes: 0,
        splitBefore: false,
        splitAfter: false,
        stored: true,
        dataOffset: expect.any(Number),
        packedSize: 0,
      },
    ]);
  });

  it.each<[string, Rar5Entry, string]>([
    ['unix symlink record', { name: 'l', redirect: { type: 1, target: 'x' } }, 'symlink'],
    ['windows symlink record', { name: 'l', redirect: { type: 2, target: 'x' } }, 'symlink'],
    ['junction record', { name: 'l', redirect: { type: 3, target: 'x' } }, 'junction'],
    ['hard link record', { name: 'l', redirect: { type: 4, target: 'x' } }, 'hardlink'],
    ['file copy record', { name: 'l', redirect: { type: 5, target: 'x' } }, 'file_copy'],
    ['unix mode S_IFLNK', { name: 'l', host: 'unix', attributes: 0o120777 }, 'symlink'],
    ['windows reparse point attribute', { name: 'l', attributes: 0x420 }, 'symlink'],
  ])('sees a link from its %s', (_what, entry, kind) => {
    expect(scan(buildRar5([entry])).entries[0]?.link).toBe(kind);
  });

  it("sees volumes, encrypted entries and the real fixtures' links", () => {
    expect(scan(buildRar5([{ name: 'a' }], { volume: true })).volume).toBe(true);
    expect(scan(buildRar5([{ name: 'a', encryptedFlag: true }])).entries[0]?.encrypted).toBe(true);
    expect(scanFixture('rar5_multiarchive.part03.rar').volume).toBe(true);
    expect(scanFixture('rar5_encrypted_filenames.rar').headersEncrypted).toBe(true);
    expect(scanFixture('rar5_hardlink.rar').entries.map((e) => e.link)).toEqual([null, 'hardlink']);
    expect(scanFixture('rar5_symlink.rar').entries.map((e) => e.link)).toEqual([null, 'symlink', 'symlink', null]);
  });

  it('reads the dictionary size the decoder will allocate', () => {
    expect(scan(buildRar5([{ name: 'a', dictionaryLog: 8 }])).entries[0]?.dictionaryBytes).toBe(32 * 2 ** 20);
    expect(scan(buildRar5([{ name: 'a', dictionaryLog: 15 }])).entries[0]?.dictionaryBytes).toBe(4 * 2 ** 30);
    expect(scanFixture('rar_binary_data.rar').entries[0]?.dictionaryBytes).toBe(2 * 2 ** 20);
  });

  it('refuses a header whose CRC does not match, and truncation', () => {
    const bytes = buildRar5([{ name: 'a.txt', data: 'hello' }]);
    const flipped = Buffer.from(bytes);
    flipped[30] = flipped[30]! ^ 1;
    expect(scanError(flipped).code).toBe('damaged');
    expect(scanError(bytes.subarray(0, bytes.length - 12)).code).toBe('damaged');
  });
});

describe('scanRarArchive (RAR 4)', () => {
  it('reads the fixtures: symlinks by mode, volumes, encryption, Windows names', () => {
    const rar = scanFixture('rar.rar');
    expect(rar.format).toBe('rar4');
    expect(rar.entries.map((e) => [e.name, e.link])).toEqual([
      ['test.txt', null],
      ['testlink', 'symlink'],
      ['testdir\\test.txt', null],
      ['testdir', null],
      ['testemptydir', null],
    ]);
    expect(scanFixture('rar_multivolume.part0002.rar').volume).toBe(true);
    expect(scanFixture('rar_encryption_header.rar').headersEncrypted).toBe(true);
    expect(scanFixture('rar_encryption_data.rar').entries.every((e) => e.encrypted)).toBe(true);
    expect(scanFixture('rar_binary_data.rar').entries.map((e) => [e.unpackedSize, e.crc32])).toEqual([
      [1_048_576, 0xb5c45cbe],
      [32_618, 0x3435594d],
    ]);
  });

  it('decodes RAR 4 Unicode names', () => {
    expect(scanFixture('rar_unicode.rar').entries.map((e) => e.name)).toContain('表だよ\\漢字長いファイル名long-filename-in-漢字.txt');
    expect(decodeRar4UnicodeName(Buffer.from('plain-utf8-ü', 'utf8'))).toBe('plain-utf8-ü');
  });

  it('refuses an archive without a main header', () => {
    expect(scanError(readFileSync(rarFixture('rar_overflow.rar'))).code).toBe('damaged');
  });
});

describe('scanRarArchive (not RAR)', () => {
  it('tells self-extracting executables and other files apart', () => {
    expect(scanError(readFileSync(rarFixture('rar_sfx.exe'))).code).toBe('sfx');
    expect(scanError(Buffer.from('PK\u0003\u0004 a zip file')).code).toBe('not_rar');
    expect(scanError(Buffer.alloc(0)).code).toBe('not_rar');
  });
});
