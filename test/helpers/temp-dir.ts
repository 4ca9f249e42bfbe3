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
  await writeFiles(root, opts.files ?? {});
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

/** Write `files` (relative path → content) under `dir`, making folders as needed. */
export async function writeFiles(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
}

export const exists = (p: string): Promise<boolean> =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );

/** Files (path → content) and folders (path/ → '') under `dir`; symlinks as '-> target'. */
export async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, r);
      if (e.isSymbolicLink()) out[r] = `-> ${await fs.readlink(abs)}`;
      else if (e.isDirectory()) {
        out[`${r}/`] = '';
        await walk(r);
      } else out[r] = await fs.readFile(abs, 'utf8');
    }
  };
  await walk('');
  return out;
}
