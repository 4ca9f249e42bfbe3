// Each test makes its own folders and registers their removal.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

export async function tempDir(prefix = 'lanspread-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Make `<gameDir>/<id>/` with optional version.ini, local/ and payload files. */
export async function makeGame(
  gameDir: string,
  id: string,
  opts: { version?: string; installed?: boolean; files?: Record<string, string | Buffer> } = {},
): Promise<string> {
  const root = path.join(gameDir, id);
  await fs.mkdir(root, { recursive: true });
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), content);
  }
  if (opts.installed) await fs.mkdir(path.join(root, 'local'), { recursive: true });
  if (opts.version !== undefined) await fs.writeFile(path.join(root, 'version.ini'), `${opts.version}\n`);
  return root;
}

/** Poll `check` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Replace a file's bytes and put its timestamps back exactly (to the nanosecond), as silent disk rot would. */
export async function rewriteKeepingMtime(file: string, bytes: Buffer): Promise<void> {
  const ref = `${file}.timeref`;
  await promisify(execFile)('touch', ['-r', file, ref]);
  await fs.writeFile(file, bytes);
  await promisify(execFile)('touch', ['-r', ref, file]);
  await fs.rm(ref);
}
