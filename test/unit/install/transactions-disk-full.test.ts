// Disk full (scenario I7): the game dir on a 3 MiB tmpfs, an archive that
// expands to ~240 MB, the real RAR unpacker. The up-front refusal (the
// declared sizes exceed the free space the real statfs reports) answers the
// request with not_enough_space naming both figures and changes nothing; a real
// ENOSPC in the middle of the extraction (free-space checks off) ends with a
// clear lastError. Both leave the old install byte for byte, no staging, no
// intent, and the space given back.
// Needs root to mount; skipped with a message otherwise.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { intentPath } from '../../../server/runtime/install/intent-journal.js';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { PeerRuntime } from '../../../server/runtime/runtime.js';
import { silentLogger } from '../../../server/runtime/logger.js';
import { rarFixture } from '../../helpers/fixtures.js';
import { testCatalog } from '../../helpers/runtime.js';
import { exists, tempDir, waitFor, writeFiles } from '../../helpers/temp-dir.js';
import { freeBytes, smallDisk } from '../../helpers/small-disk.js';

const OLD: Record<string, string> = { 'game.exe': 'old binary', 'data/one.map': 'old map' };
const BIG = 'rar_ppmd_lzss_conversion.rar'; // 176 KB that expands to 241,647,978 bytes

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of (await fs.readdir(dir, { recursive: true })) as string[]) {
    const abs = path.join(dir, rel);
    out[rel] = (await fs.lstat(abs)).isDirectory() ? '' : await fs.readFile(abs, 'utf8');
  }
  return out;
}

describe('install onto a full disk', () => {
  it.for([
    ['refused up front from the declared sizes', true],
    ['ENOSPC in the middle of the extraction', false],
  ] as const)('%s: clear error, old install intact, staging cleaned, space given back', async ([, checkFreeSpace], ctx) => {
    const disk = await smallDisk(ctx);
    const root = path.join(disk, 'alpha');
    await writeFiles(root, { 'version.ini': '1\n', ...Object.fromEntries(Object.entries(OLD).map(([k, v]) => [`local/${k}`, v])) });
    await fs.copyFile(rarFixture(BIG), path.join(root, 'alpha.eti'));
    const fresh = path.join(disk, 'bravo');
    await writeFiles(fresh, { 'version.ini': '1\n' });
    await fs.copyFile(rarFixture(BIG), path.join(fresh, 'bravo.eti'));
    const stateDir = await tempDir();
    const before = { alpha: await tree(root), free: await freeBytes(disk) };

    const runtime = await PeerRuntime.start({
      gameDir: disk,
      stateDir,
      catalog: testCatalog,
      name: 'small-disk',
      uploadLimit: 0,
      downloadLimit: 0,
      logger: silentLogger,
      library: { watch: false },
      network: false,
      unpacker: new RarUnpacker({ checkFreeSpace }),
      // off: the node's own check, so the extraction really runs into the full disk
      ...(checkFreeSpace ? {} : { diskSpace: { free: async () => Number.MAX_SAFE_INTEGER } }),
    });
    try {
      let minFree = Infinity;
      const sampler = setInterval(() => void freeBytes(disk).then((f) => (minFree = Math.min(minFree, f))), 5);
      const refusals: unknown[] = [];
      for (const id of ['alpha', 'bravo']) {
        await runtime.execute({ type: 'InstallGame', id }).catch((err: unknown) => refusals.push(err));
      }
      await waitFor(() => (runtime.listOperations().length === 0 ? true : undefined), 60_000, 'both installs to end');
      clearInterval(sampler);
      await runtime.rescan();

      for (const [i, id] of ['alpha', 'bravo'].entries()) {
        if (checkFreeSpace) {
          // refused when asked: 230 MiB against what the tmpfs has
          const refusal = refusals[i] as { code?: string; message?: string };
          expect(refusal?.code, id).toBe('not_enough_space');
          expect(refusal?.message, id).toMatch(
            /^not enough free space to install "\w+": it needs 230 MiB, the disk has [\d.]+ (KiB|MiB) free$/,
          );
          expect(runtime.game(id).lastError, id).toBeNull();
        } else {
          const error = runtime.game(id).lastError;
          expect(error?.code, id).toBe('extract_no_space');
          expect(error?.message, id).toMatch(/space/i);
        }
        expect(await exists(path.join(disk, id, '.local.installing')), `${id} staging`).toBe(false);
        expect(await exists(path.join(disk, id, '.local.backup')), `${id} backup`).toBe(false);
        expect(await exists(intentPath(stateDir, id)), `${id} intent`).toBe(false);
      }
      expect(await tree(root)).toEqual(before.alpha);
      expect(runtime.game('alpha').installed).toBe(true);
      expect(await exists(path.join(fresh, 'local'))).toBe(false);
      expect(runtime.game('bravo').installed).toBe(false);
      if (!checkFreeSpace) expect(minFree, 'the disk really filled up').toBeLessThan(64 * 1024);
      expect(await freeBytes(disk)).toBe(before.free);

      // with the space back, a small archive installs over the old install
      await fs.rm(path.join(root, 'alpha.eti'));
      await fs.copyFile(rarFixture('rar5_stored.rar'), path.join(root, 'alpha.eti'));
      await runtime.execute({ type: 'InstallGame', id: 'alpha' });
      await waitFor(() => (runtime.game('alpha').operation === null ? true : undefined), 20_000, 'the small install');
      expect(await tree(path.join(root, 'local'))).toEqual({ 'helloworld.txt': expect.stringContaining('hello') });
      expect(runtime.game('alpha').lastError).toBeNull();
    } finally {
      await runtime.close();
    }
  });
});
