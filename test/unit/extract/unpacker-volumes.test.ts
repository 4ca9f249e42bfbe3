// Multi-volume RAR sets through the real RarUnpacker: the fixture sets extract
// as one archive, named `name.partNN.rar` (RAR 5 and RAR 4) and the old way
// (`name.rar`, `name.r00` …); the names, sizes and CRC32s expected are the ones
// libarchive's own tests assert for these files. A set with a volume missing
// or damaged is refused before anything is written, naming the volume, and the
// extractor opens only the volumes it was given.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { ExtractError } from '../../../server/runtime/extract/unpacker.js';
import { oldStyleVolumes, rarFixture } from '../../helpers/fixtures.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'lanspread-unpacker-volumes-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const unpacker = new RarUnpacker();

const parts = (stem: string, count: number, width: number): string[] =>
  Array.from({ length: count }, (_, i) => rarFixture(`${stem}.part${String(i + 1).padStart(width, '0')}.rar`));

const BIN = 'home/antek/temp/build/unrar5/libarchive/bin';
/** test_read_format_rar5.c: multiarchive_extr_all */
const MULTIARCHIVE = { [`${BIN}/bsdcat_test`]: 0x35277473, [`${BIN}/bsdtar_test`]: 0xe59665f8 };
/** test_read_format_rar5.c: multiarchive_solid_extr_all */
const MULTIARCHIVE_SOLID = {
  'cebula.txt': 0x7e5ec49e,
  'test.bin': 0x7cca70cd,
  'test1.bin': 0x7e13b2c6,
  'test2.bin': 0xf166afcb,
  'test3.bin': 0x9fb123d9,
  'test4.bin': 0x10c43ed4,
  'test5.bin': 0xb9d155f2,
  'test6.bin': 0x36a448ff,
  'elf-Linux-ARMv7-ls': 0x886f91eb,
};

function emptyDest(): string {
  return mkdtempSync(path.join(scratch, 'dest-'));
}

/** Every regular file under `root` with its CRC32. */
function crcs(root: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rel of readdirSync(root, { recursive: true }) as string[]) {
    const file = path.join(root, rel);
    if (statSync(file).isFile()) out[rel.split(path.sep).join('/')] = crc32(readFileSync(file));
  }
  return out;
}

async function refusal(archives: string[], dest: string): Promise<ExtractError> {
  const error = await unpacker.extract(archives, dest).then(
    () => null,
    (err: unknown) => err,
  );
  expect(error, 'extraction should have been refused').toBeInstanceOf(ExtractError);
  expect(readdirSync(dest), 'nothing may be written before a refusal').toEqual([]);
  return error as ExtractError;
}

/** A copy of the fixture set in its own folder, so volumes can be left out or damaged. */
function copySet(stem: string, count: number, width: number): string[] {
  const dir = mkdtempSync(path.join(scratch, 'set-'));
  return parts(stem, count, width).map((p) => {
    const copy = path.join(dir, path.basename(p));
    copyFileSync(p, copy);
    return copy;
  });
}

describe('multi-volume sets extract as one archive', () => {
  it('rar5_multiarchive.part01–08: two files, with the CRC32s libarchive asserts', async () => {
    const dest = emptyDest();
    const result = await unpacker.extract(parts('rar5_multiarchive', 8, 2), dest);
    expect(crcs(dest)).toEqual(MULTIARCHIVE);
    expect(result).toEqual({ files: 2, bytes: 144_608 + 365_672 });
  });

  it('rar5_multiarchive_solid.part01–04: nine files of a solid set', async () => {
    const dest = emptyDest();
    const result = await unpacker.extract(parts('rar5_multiarchive_solid', 4, 2), dest);
    expect(crcs(dest)).toEqual(MULTIARCHIVE_SOLID);
    expect(result.files).toBe(9);
  });

  it('RAR 4 sets named .part1.rar …: one file split over three volumes, and two over six', async () => {
    const single = emptyDest();
    await unpacker.extract(parts('rar_multivolume_single_file', 3, 1), single);
    expect(readdirSync(single)).toEqual(['LibarchiveAddingTest.html']);
    expect(statSync(path.join(single, 'LibarchiveAddingTest.html')).size).toBe(20_111);

    const multiple = emptyDest();
    await unpacker.extract(parts('rar_multivolume_multiple_files', 6, 1), multiple);
    expect(readdirSync(multiple).sort()).toEqual(['LibarchiveAddingTest.html', 'LibarchiveAddingTest2.html']);
    // the same document under two names (libarchive compares both with one text)
    expect(readFileSync(path.join(multiple, 'LibarchiveAddingTest.html'))).toEqual(
      readFileSync(path.join(single, 'LibarchiveAddingTest.html')),
    );
    expect(readFileSync(path.join(multiple, 'LibarchiveAddingTest2.html'))).toEqual(
      readFileSync(path.join(single, 'LibarchiveAddingTest.html')),
    );
  });

  it('a RAR 4 set named the old way (game.rar, game.r00, game.r01) extracts the same file', async () => {
    const dir = mkdtempSync(path.join(scratch, 'old-'));
    const volumes = oldStyleVolumes(parts('rar_multivolume_single_file', 3, 1), dir, 'game');
    expect(volumes.map((v) => path.basename(v))).toEqual(['game.rar', 'game.r00', 'game.r01']);
    const reference = emptyDest();
    await unpacker.extract(parts('rar_multivolume_single_file', 3, 1), reference);
    const dest = emptyDest();
    await unpacker.extract(volumes, dest);
    expect(crcs(dest)).toEqual(crcs(reference));
    expect(Object.keys(crcs(dest))).toEqual(['LibarchiveAddingTest.html']);
  });
});

describe('a set with a volume missing or damaged is refused, naming the volume', () => {
  it.each([
    ['a middle volume', [1, 2, 4, 5, 6, 7, 8], 'rar5_multiarchive.part03.rar'],
    ['the first volume', [2, 3, 4, 5, 6, 7, 8], 'rar5_multiarchive.part01.rar'],
    ['the last volume', [1, 2, 3, 4, 5, 6, 7], 'rar5_multiarchive.part08.rar'],
  ])('%s', async (_what, present, missing) => {
    const all = copySet('rar5_multiarchive', 8, 2);
    const given = all.filter((_, i) => present.includes(i + 1));
    for (const file of all) if (!given.includes(file)) rmSync(file);
    const error = await refusal(given, emptyDest());
    expect(error.code).toBe('archive_volume_missing');
    expect(error.message).toContain(`"${missing}" is missing`);
  });

  it('opens no volume it was not given, even one lying beside the others', async () => {
    // part08 is in the fixture folder, but only part01–07 are handed over
    const error = await refusal(parts('rar5_multiarchive', 7, 2), emptyDest());
    expect(error.code).toBe('archive_volume_missing');
    expect(error.message).toContain('"rar5_multiarchive.part08.rar" is missing');
  });

  it('a volume with a damaged header', async () => {
    const volumes = copySet('rar5_multiarchive', 8, 2);
    const victim = volumes[4]!;
    const bytes = readFileSync(victim);
    bytes[12]! ^= 0xff; // inside the main header, after the signature and its CRC
    writeFileSync(victim, bytes);
    const error = await refusal(volumes, emptyDest());
    expect(error.code).toBe('archive_damaged');
    expect(error.message).toContain('"rar5_multiarchive.part05.rar"');
  });

  it('a file that follows the last volume of a set', async () => {
    const dir = mkdtempSync(path.join(scratch, 'extra-'));
    const volumes = parts('rar_multivolume_single_file', 3, 1).map((p) => {
      const copy = path.join(dir, path.basename(p));
      copyFileSync(p, copy);
      return copy;
    });
    const extra = path.join(dir, 'rar_multivolume_single_file.part4.rar');
    copyFileSync(rarFixture('rar5_stored.rar'), extra);
    const error = await refusal([...volumes, extra], emptyDest());
    expect(error.code).toBe('archive_multivolume');
    expect(error.message).toContain('"rar_multivolume_single_file.part4.rar" follows');
  });
});
