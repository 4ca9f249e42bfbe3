// Disk full (scenario I7): the game dir on a 3 MiB tmpfs, an archive that
// expands to ~240 MB, the real RAR unpacker. Both the up-front refusal (the
// declared sizes exceed the free space) and a real ENOSPC in the middle of the
// extraction (free-space check off) must end with a clear lastError, the old
// install byte for byte, no staging, no intent, and the space given back.
// Needs root to mount; skipped with a message otherwise.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, type TestContext } from 'vitest';
import { intentPath } from '../../../server/runtime/install/intent-journal.js';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { PeerRuntime } from '../../../server/runtime/runtime.js';
import { silentLogger } from '../../../server/runtime/logger.js';
import { rarFixture } from '../../helpers/fixtures.js';
import { testCatalog } from '../../helpers/runtime.js';
import { exists, tempDir, waitFor, writeFiles } from '../../helpers/temp-dir.js';
import { skipTest } from '../../helpers/skip.js';

const run = promisify(execFile);
const OLD: Record<string, string> = { 'game.exe': 'old binary', 'data/one.map': 'old map' };
const BIG = 'rar_ppmd_lzss_conversion.rar'; // 176 KB that expands to 241,647,978 bytes

/** Mount a small tmpfs; null (and the reason) when this machine does not allow it. */
async function smallDisk(ctx: TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir]);
  } catch (err) {
    await fs.rmdir(dir);
    skipTest(ctx, `cannot mount a small tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`);
  }
  ctx.onTestFinished(async () => {
    await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
    await fs.rmdir(dir);
  });
  return dir;
}

async function freeBytes(dir: string): Promise<number> {
  const st = await fs.statfs(dir);
  return st.bavail * st.bsize;
}

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
    });
    try {
      let minFree = Infinity;
      const sampler = setInterval(() => void freeBytes(disk).then((f) => (minFree = Math.min(minFree, f))), 5);
      await runtime.execute({ type: 'InstallGame', id: 'alpha' });
      await runtime.execute({ type: 'InstallGame', id: 'bravo' });
      await waitFor(() => (runtime.listOperations().length === 0 ? true : undefined), 60_000, 'both installs to end');
      clearInterval(sampler);
      await runtime.rescan();

      for (const id of ['alpha', 'bravo']) {
        const error = runtime.game(id).lastError;
        expect(error?.code, id).toBe('extract_no_space');
        expect(error?.message, id).toMatch(/space/i);
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
