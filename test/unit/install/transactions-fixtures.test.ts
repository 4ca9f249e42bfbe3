// Every real archive in the fixture folder installed through the runtime's
// install service with the real RAR unpacker (scenario I6), once as a fresh
// install and once as an update over an old install. An archive that installs
// must give exactly the files its headers declare (sizes and CRC32s); one that
// fails must fail cleanly: lastError set to the unpacker's code, no staging and
// no intent left, no local/ when there was none, the old local/ byte for byte
// when there was one.
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../server/runtime/library/catalog.js';
import { intentPath } from '../../../server/runtime/install/intent-journal.js';
import { openFileSource, scanRarArchive } from '../../../server/runtime/extract/rar-headers.js';
import { isExtractErrorCode } from '../../../server/runtime/extract/unpacker.js';
import type { PeerRuntime } from '../../../server/runtime/runtime.js';
import { listRarFixtures, rarFixture } from '../../helpers/fixtures.js';
import { startTestRuntime, testEntry } from '../../helpers/runtime.js';
import { tempDir, waitFor } from '../../helpers/temp-dir.js';

/** The fixtures that extract (docs/EXTRACTION.md); every other one must be refused. */
const INSTALLS = new Set([
  'rar3_lowdist_reset.rar',
  'rar5_arm.rar',
  'rar5_blake2.rar',
  'rar5_compressed.rar',
  'rar5_extra_field_version.rar',
  'rar5_fileattr.rar',
  'rar5_invalid_hash_valid_htime_exfld.rar',
  'rar5_main_block_extra_bytes.rar',
  'rar5_multiple_files.rar',
  'rar5_multiple_files_solid.rar',
  'rar5_owner.rar',
  'rar5_skip_block_extra_bytes.rar',
  'rar5_solid.rar',
  'rar5_stored.rar',
  'rar5_stored_manyfiles.rar',
  'rar5_unsupported_exfld.rar',
  'rar5_win32.rar',
  'rar5_zip_in_rar.rar',
  'rar_binary_data.rar',
  'rar_filter.rar',
  'rar_multi_lzss_blocks.rar',
  'rar_newsub_rr_over_1m.rar',
  'rar_noeof.rar',
  'rar_ppmd_lzss_conversion.rar',
  'rar_subblock.rar',
  'rar_windows.rar',
  'read_large_splitted_rar.rar',
  'splitted_rar_seek_support.rar',
]);

const OLD: Record<string, string> = { 'game.exe': 'old binary', 'data/one.map': 'old map' };

/** CRC32 and size of a file, read in chunks (some are 240 MB). */
async function crcAndSize(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let crc = 0;
  let size = 0;
  try {
    for (let r = await handle.read(chunk); r.bytesRead > 0; r = await handle.read(chunk)) {
      crc = crc32(chunk.subarray(0, r.bytesRead), crc);
      size += r.bytesRead;
    }
  } finally {
    await handle.close();
  }
  return `${size}:${crc.toString(16)}`;
}

/** Regular files under dir → "size:crc32". */
async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of (await fs.readdir(dir, { recursive: true })) as string[]) {
    const st = await fs.lstat(path.join(dir, rel));
    expect(st.isFile() || st.isDirectory(), `${rel} is a file or a folder`).toBe(true);
    if (st.isFile()) out[rel.split(path.sep).join('/')] = await crcAndSize(path.join(dir, rel));
  }
  return out;
}

/** What the archive's headers declare: name → {size, crc32 (null when it carries a BLAKE2 hash)}. */
function declared(archive: string): { name: string; size: number | null; crc32: number | null }[] {
  const source = openFileSource(archive);
  try {
    return scanRarArchive(source)
      .entries.filter((e) => !e.directory)
      .map((e) => ({ name: e.name.replaceAll('\\', '/'), size: e.unpackedSize, crc32: e.crc32 }));
  } finally {
    source.close();
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

async function installAll(runtime: PeerRuntime, ids: string[], concurrency = 3): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      await runtime.execute({ type: 'InstallGame', id });
      await waitFor(() => (runtime.game(id).operation === null ? true : undefined), 60_000, `install of ${id}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await runtime.rescan();
}

describe.each([
  ['a fresh install', false],
  ['an update over an old install', true],
])('every fixture archive as %s', (_name, update) => {
  it('installs with exactly the declared content or fails cleanly', { timeout: 120_000 }, async () => {
    const names = listRarFixtures();
    expect(names.filter((n) => INSTALLS.has(n)).sort()).toEqual([...INSTALLS].sort());
    const ids = names.map((_n, i) => `fx-${i}`);
    const gameDir = await tempDir();
    for (const [i, name] of names.entries()) {
      const root = path.join(gameDir, ids[i]!);
      await fs.mkdir(root);
      await fs.copyFile(rarFixture(name), path.join(root, `${ids[i]}.eti`));
      await fs.writeFile(path.join(root, 'version.ini'), '1\n');
      if (update) {
        for (const [rel, content] of Object.entries(OLD)) {
          await fs.mkdir(path.dirname(path.join(root, 'local', rel)), { recursive: true });
          await fs.writeFile(path.join(root, 'local', rel), content);
        }
      }
    }
    const { runtime, stateDir } = await startTestRuntime({
      gameDir,
      catalog: new Catalog(ids.map((id) => testEntry(id))),
      library: { watch: false },
    });
    await installAll(runtime, ids);

    const oldSigs = Object.fromEntries(Object.entries(OLD).map(([k, v]) => [k, `${v.length}:${crc32(v).toString(16)}`]));
    for (const [i, name] of names.entries()) {
      const id = ids[i]!;
      const root = path.join(gameDir, id);
      const game = runtime.game(id);
      expect(await exists(path.join(root, '.local.installing')), `${name}: staging gone`).toBe(false);
      expect(await exists(path.join(root, '.local.backup')), `${name}: backup gone`).toBe(false);
      expect(await exists(intentPath(stateDir, id)), `${name}: intent cleared`).toBe(false);
      if (INSTALLS.has(name)) {
        expect(game.lastError, name).toBeNull();
        expect(game.installed, name).toBe(true);
        const got = await files(path.join(root, 'local'));
        const want = declared(rarFixture(name));
        expect(Object.keys(got).length, `${name}: file count`).toBe(want.length);
        for (const [rel, sig] of Object.entries(got)) {
          // unrar names an older version of a file 'name;1' (rar5_extra_field_version)
          const header = want.find((w) => w.name === rel) ?? want.find((w) => w.name === rel.replace(/;\d+$/, ''));
          expect(header, `${name}: ${rel} is declared`).toBeDefined();
          const [size, crc] = sig.split(':');
          expect(Number(size), `${name}: ${rel} size`).toBe(header!.size);
          if (header!.crc32 !== null) expect(crc, `${name}: ${rel} CRC32`).toBe(header!.crc32.toString(16));
        }
      } else {
        expect(game.lastError, `${name} must fail`).not.toBeNull();
        expect(isExtractErrorCode(game.lastError!.code), `${name}: ${game.lastError!.code} is an extraction code`).toBe(true);
        expect(game.installed, name).toBe(update);
        if (update) expect(await files(path.join(root, 'local')), `${name}: old install intact`).toEqual(oldSigs);
        else expect(await exists(path.join(root, 'local')), `${name}: no local/`).toBe(false);
      }
    }
  });
});
