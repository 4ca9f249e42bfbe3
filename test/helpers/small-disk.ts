// A small file system for disk-full tests: a tmpfs of a few MiB mounted for
// one test and unmounted after it. Needs root to mount; the test is skipped
// with the reason otherwise.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'vitest';
import { skipTest } from './skip.js';

const run = promisify(execFile);

/** Mount a small tmpfs (default 3 MiB); the test is skipped (with the reason) when this machine does not allow it. */
export async function smallDisk(ctx: TestContext, size = '3m'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
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

/** Free bytes of the file system holding `dir`, as statfs reports them. */
export async function freeBytes(dir: string): Promise<number> {
  const st = await fs.statfs(dir);
  return st.bavail * st.bsize;
}
