// Every real archive in test/fixtures/rar goes through the RarUnpacker: the
// good ones extract with exactly the expected names, sizes and CRCs (checked
// against the CRCs the archive headers declare), every other one fails with its
// expected ExtractError code, and refusals made before extraction write nothing.
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileSource, scanRarArchive } from '../../../server/runtime/extract/rar-headers.js';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { ExtractError, type ExtractErrorCode } from '../../../server/runtime/extract/unpacker.js';
import { listRarFixtures, rarFixture } from '../../helpers/fixtures.js';

type Expected = { ok: { tree: string[]; files: number; bytes: number } } | { code: ExtractErrorCode };

const ok = (tree: string[], files: number, bytes: number): Expected => ({ ok: { tree, files, bytes } });
const fails = (code: ExtractErrorCode): Expected => ({ code });
const damaged = fails('archive_damaged');
const encrypted = fails('archive_encrypted');
const volumeMissing = fails('archive_volume_missing');
const unsafe = fails('archive_unsafe_entry');
const unsupported = fails('archive_unsupported');

const TEST_BINS = ['test1.bin', 'test2.bin', 'test3.bin', 'test4.bin'];
const SOLID_BINS = ['test.bin', 'test1.bin', 'test2.bin', 'test3.bin', 'test4.bin', 'test5.bin', 'test6.bin'];
const PPMD = ok(['ppmd_lzss_conversion_test.txt'], 1, 241_647_978);

/** Expected outcome per fixture; `tree` lists files and folders (with a trailing '/'). */
const EXPECTED: Record<string, Expected> = {
  // extract, byte totals as in the fixtures' README table
  'rar3_lowdist_reset.rar': ok(['lowdist-reset.bin'], 1, 64),
  'rar5_arm.rar': ok(['elf-Linux-ARMv7-ls'], 1, 90_808),
  'rar5_blake2.rar': ok(['cebula.txt'], 1, 814),
  'rar5_compressed.rar': ok(['test.bin'], 1, 1200),
  'rar5_extra_field_version.rar': ok(['bin/', 'bin/2to3', 'bin/2to3;1'], 2, 190),
  'rar5_fileattr.rar': ok(
    ['dir_hidden/', 'dir_readonly/', 'dir_rohidden/', 'dir_system/', 'hidden.txt', 'readonly.txt', 'ro_hidden.txt', 'system.txt'],
    4,
    44,
  ),
  'rar5_invalid_hash_valid_htime_exfld.rar': ok(['file.txt'], 1, 49),
  'rar5_main_block_extra_bytes.rar': ok(['helloworld.txt'], 1, 29),
  'rar5_multiple_files.rar': ok(TEST_BINS, 4, 16_384),
  'rar5_multiple_files_solid.rar': ok(TEST_BINS, 4, 16_384),
  'rar5_owner.rar': ok(['nobody.txt', 'numeric.txt', 'root.txt'], 3, 15),
  'rar5_skip_block_extra_bytes.rar': ok(['helloworld.txt'], 1, 29),
  'rar5_solid.rar': ok(SOLID_BINS, 7, 25_776),
  'rar5_stored.rar': ok(['helloworld.txt'], 1, 29),
  'rar5_stored_manyfiles.rar': ok(['cebula.txt', 'make_uue.tcl', 'test.bin'], 3, 2419),
  'rar5_unsupported_exfld.rar': ok(['file.txt'], 1, 48),
  'rar5_win32.rar': ok([...SOLID_BINS, 'testdir/'], 7, 25_776),
  'rar5_zip_in_rar.rar': ok(['payload/', 'payload/inner.zip', 'payload/real_after.txt'], 2, 186),
  'rar_binary_data.rar': ok(['LibarchiveAddingTest.odt', 'random_data.bin'], 2, 1_081_194),
  'rar_filter.rar': ok(['bsdcat.exe'], 1, 204_288),
  'rar_multi_lzss_blocks.rar': ok(['multi_lzss_blocks_test.txt'], 1, 20_131_111),
  'rar_newsub_rr_over_1m.rar': ok([], 0, 0),
  'rar_noeof.rar': ok(['test.txt'], 1, 20),
  'rar_ppmd_lzss_conversion.rar': PPMD,
  'rar_subblock.rar': ok(['test.txt'], 1, 20),
  'rar_windows.rar': ok(['test.txt', 'testdir/', 'testdir/test.txt', 'testemptydir/', 'testshortcut.lnk'], 3, 473),
  'read_large_splitted_rar.rar': PPMD,
  'splitted_rar_seek_support.rar': ok(['LibarchiveAddingTest.html'], 1, 20_111),

  // links (symlinks, hardlinks) anywhere in the archive
  'rar.rar': unsafe,
  'rar5_hardlink.rar': unsafe,
  'rar5_symlink.rar': unsafe,
  'rar5_unicode.rar': unsafe,
  'rar_compress_best.rar': unsafe,
  'rar_compress_normal.rar': unsafe,
  'rar_unicode.rar': unsafe,
  'read_splitted_rar.rar': unsafe,

  // encrypted data or headers, no password given
  'rar4_encrypted.rar': encrypted,
  'rar4_encrypted_filenames.rar': encrypted,
  'rar4_solid_encrypted.rar': encrypted,
  'rar4_solid_encrypted_filenames.rar': encrypted,
  'rar5_encrypted.rar': encrypted,
  'rar5_encrypted_filenames.rar': encrypted,
  'rar5_only_crypt_exfld.rar': encrypted,
  'rar5_solid_encrypted.rar': encrypted,
  'rar5_solid_encrypted_filenames.rar': encrypted,
  'rar_encryption_data.rar': encrypted,
  'rar_encryption_header.rar': encrypted,
  'rar_encryption_partially.rar': encrypted,

  // self-extracting executables
  'rar5_sfx.exe': unsupported,
  'rar_sfx.exe': unsupported,

  // fuzzed files that claim to be a volume of a set; read to their end, their headers are broken
  'rar5_bytes_remaining_underflow.rar': damaged,
  'rar_seek_data_cursor0.rar': damaged,

  // damaged or hostile; the first four the library alone would half-accept
  'rar5_bad_tables.rar': damaged, // writes 34 of the 64 bytes its header declares
  'rar5_loop_bug.rar': damaged, // writes 0 of 196608
  'rar5_owner_name_toolong.rar': damaged, // a zero-size header follows its entry
  'rar_overflow.rar': damaged, // a file header with no main header before it
  'rar5_arm_filter_on_window_boundary.rar': damaged,
  'rar5_bad_window_sz_in_mltarc_file.rar': damaged,
  'rar5_block_size_is_too_small.rar': damaged,
  'rar5_data_ready_pointer_leak.rar': damaged,
  'rar5_decode_number_out_of_bounds_read.rar': damaged,
  'rar5_different_solid_window_size.rar': damaged,
  'rar5_different_window_size.rar': damaged,
  'rar5_different_winsize_on_merge.rar': damaged,
  'rar5_dirdata.rar': damaged,
  'rar5_distance_overflow.rar': damaged,
  'rar5_invalid_dict_reference.rar': damaged,
  'rar5_leftshift1.rar': damaged,
  'rar5_leftshift2.rar': damaged,
  'rar5_nonempty_dir_stream.rar': damaged,
  'rar5_readtables_overflow.rar': damaged,
  'rar5_truncated_huff.rar': damaged,
  'rar5_unpacked_size_exceeds_declared.rar': damaged,
  'rar5_window_buf_and_size_desync.rar': damaged,
  'rar_endarc_huge.rar': damaged,
  'rar_invalid1.rar': damaged,
  'rar_newsub_huge.rar': damaged,
  'rar_ppmd_use_after_free.rar': damaged,
  'rar_ppmd_use_after_free2.rar': damaged,
  'rar_symlink_huge.rar': damaged,
  'rar_unbound_staticdata.rar': damaged,
};

// Every part of every multi-volume set, alone: the other volumes are missing
// (the whole sets are extracted in unpacker-volumes.test.ts).
for (const name of listRarFixtures()) {
  if (/\.part\d+\.rar$/.test(name)) EXPECTED[name] = volumeMissing;
}

/** Codes decided before extraction starts: these must leave destDir untouched. */
const REFUSED_UP_FRONT = new Set<ExtractErrorCode>([
  'archive_unsafe_entry',
  'archive_encrypted',
  'archive_multivolume',
  'archive_volume_missing',
  'archive_unsupported',
]);

const scratch = mkdtempSync(path.join(tmpdir(), 'lanspread-unpacker-fixtures-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const unpacker = new RarUnpacker();

function tree(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[])
    .map((rel) => (statSync(path.join(root, rel)).isDirectory() ? `${rel}/` : rel))
    .sort();
}

/** CRC32 and size of a file, read in chunks (some are 240 MB). */
function crcAndSize(file: string): { crc32: number; size: number } {
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let crc = 0;
  let size = 0;
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      crc = crc32(chunk.subarray(0, n), crc);
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { crc32: crc, size };
}

/** The CRC32 and size each file's header declares, keyed by the path it extracts to. */
function declared(archive: string): Map<string, { crc32: number | null; size: number | null }> {
  const source = openFileSource(archive);
  try {
    const scan = scanRarArchive(source);
    return new Map(
      scan.entries.filter((e) => !e.directory).map((e) => [e.name.replaceAll('\\', '/'), { crc32: e.crc32, size: e.unpackedSize }]),
    );
  } finally {
    source.close();
  }
}

describe('RarUnpacker over every fixture archive', () => {
  it('has an expected outcome for exactly the archives in the fixture folder', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(listRarFixtures());
  });

  it.concurrent.for(listRarFixtures())('%s', async (name, { expect }) => {
    const expected = EXPECTED[name];
    expect(expected, `no expected outcome for ${name}`).toBeDefined();
    const dest = mkdtempSync(path.join(scratch, 'x-'));
    try {
      const archive = rarFixture(name);
      const outcome = await unpacker.extract([archive], dest).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      if ('ok' in expected!) {
        if ('error' in outcome) throw outcome.error;
        expect(outcome.result).toEqual({ files: expected.ok.files, bytes: expected.ok.bytes });
        expect(tree(dest)).toEqual([...expected.ok.tree].sort());
        const headers = declared(archive);
        for (const rel of tree(dest).filter((p) => !p.endsWith('/'))) {
          // rar5_extra_field_version: unrar names the older version 'bin/2to3;1'
          const header = headers.get(rel) ?? headers.get(rel.replace(/;\d+$/, ''));
          expect(header, `${rel} has no header`).toBeDefined();
          const content = crcAndSize(path.join(dest, rel));
          expect(content.size, `${rel} size`).toBe(header!.size);
          // RAR 5 may carry a BLAKE2 hash instead of a CRC32 (rar5_blake2)
          if (header!.crc32 !== null) expect(content.crc32, `${rel} CRC32`).toBe(header!.crc32);
        }
      } else {
        expect('error' in outcome, `${name} should fail with ${expected!.code}`).toBe(true);
        const error = (outcome as { error: unknown }).error;
        expect(error).toBeInstanceOf(ExtractError);
        expect((error as ExtractError).code).toBe(expected!.code);
        if (REFUSED_UP_FRONT.has(expected!.code)) expect(readdirSync(dest)).toEqual([]);
      }
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});
