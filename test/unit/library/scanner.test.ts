import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { describe, expect, it, onTestFinished } from 'vitest';
import { scanGameRoot } from '../../../server/runtime/library/scanner.js';
import { silentLogger } from '../../../server/runtime/logger.js';
import { makeGame, tempDir } from '../../helpers/temp-dir.js';
import { PROJECT_ROOT } from '../../helpers/node-process.js';

const scan = (gameDir: string, id: string) => scanGameRoot(gameDir, id, undefined, { trustDirMtimes: false, logger: silentLogger });

describe('scanGameRoot', () => {
  it('is downloaded exactly when version.ini is a regular file, installed exactly when local/ is a folder', async () => {
    const dir = await tempDir();
    await makeGame(dir, 'both', { version: '20240315', installed: true });
    await makeGame(dir, 'dl', { version: '7' });
    await makeGame(dir, 'inst', { installed: true });
    await makeGame(dir, 'empty');
    expect((await scan(dir, 'both'))?.game).toEqual({ id: 'both', downloaded: true, installed: true, version: '20240315', size: 9 });
    expect((await scan(dir, 'dl'))?.game).toMatchObject({ downloaded: true, installed: false, version: '7' });
    expect((await scan(dir, 'inst'))?.game).toMatchObject({ downloaded: false, installed: true, version: null });
    expect((await scan(dir, 'empty'))?.game).toMatchObject({ downloaded: false, installed: false });
    expect(await scan(dir, 'absent')).toBeNull();
  });

  it('does not take a version.ini folder or symlink as the sentinel', async () => {
    const dir = await tempDir();
    const a = await makeGame(dir, 'a');
    await fs.mkdir(path.join(a, 'version.ini'));
    const b = await makeGame(dir, 'b', { files: { 'real.ini': '20240101' } });
    await fs.symlink(path.join(b, 'real.ini'), path.join(b, 'version.ini'));
    expect((await scan(dir, 'a'))?.game.downloaded).toBe(false);
    expect((await scan(dir, 'b'))?.game.downloaded).toBe(false);
  });

  it('does not take a local file or a local symlink as installed', async () => {
    const dir = await tempDir();
    const a = await makeGame(dir, 'a', { version: '1', files: { local: 'not a folder' } });
    const b = await makeGame(dir, 'b', { version: '1' });
    await fs.mkdir(path.join(dir, 'elsewhere'));
    await fs.symlink(path.join(dir, 'elsewhere'), path.join(b, 'local'));
    expect((await scan(dir, 'a'))?.game.installed).toBe(false);
    expect((await scan(dir, 'b'))?.game.installed).toBe(false);
    expect(a).toBeTruthy();
  });

  it('lists the payload without local/, owned dot-folders, temp sentinels or symlinks', async () => {
    const dir = await tempDir();
    const root = await makeGame(dir, 'g', {
      version: '1',
      installed: true,
      files: {
        'g.eti': 'abcd',
        'extra/part2.eti': 'ef',
        'local/game.exe': 'installed bytes',
        '.local.installing/x': 'staging',
        '.local.backup/y': 'backup',
        '.version.ini.tmp': '2',
        '.version.ini.discarded': '0',
      },
    });
    await fs.symlink('/etc/passwd', path.join(root, 'leak'));
    const entry = await scan(dir, 'g');
    expect(entry?.files.map((f) => f.path)).toEqual(['extra/part2.eti', 'g.eti', 'version.ini']);
    expect(entry?.game.size).toBe(4 + 2 + 2);
  });

  it('reads only the first line of version.ini, trimmed; an empty one has no version', async () => {
    const dir = await tempDir();
    await makeGame(dir, 'a', { files: { 'version.ini': '  20240315  \r\nextra\n' } });
    await makeGame(dir, 'b', { files: { 'version.ini': '\n' } });
    expect((await scan(dir, 'a'))?.game.version).toBe('20240315');
    expect((await scan(dir, 'b'))?.game).toMatchObject({ downloaded: true, version: null });
  });

  it('reuses a previous entry when trusted and no folder moved, and notices a moved folder', async () => {
    const dir = await tempDir();
    const root = await makeGame(dir, 'g', { version: '1', files: { 'sub/a.eti': 'aa' } });
    const first = await scan(dir, 'g');
    // Grow a file in place: no folder mtime moves, so a trusting scan keeps the indexed size…
    await fs.appendFile(path.join(root, 'sub/a.eti'), 'more');
    const trusted = await scanGameRoot(dir, 'g', first!, { trustDirMtimes: true, logger: silentLogger });
    expect(trusted?.game.size).toBe(first?.game.size);
    // …and an untrusting one (per-game rescan) sees it.
    expect((await scan(dir, 'g'))?.game.size).toBe(first!.game.size + 4);
    // A new file changes its folder's mtime, so even a trusting scan walks again.
    await fs.writeFile(path.join(root, 'sub/b.eti'), 'bbb');
    const rewalked = await scanGameRoot(dir, 'g', first!, { trustDirMtimes: true, logger: silentLogger });
    expect(rewalked?.files.map((f) => f.path)).toContain('sub/b.eti');
  });

  it('leaves out a folder it cannot read, and keeps scanning the rest', async () => {
    if (process.getuid?.() !== 0) {
      // Not root: make the folder unreadable for ourselves.
      const dir = await tempDir();
      const root = await makeGame(dir, 'g', { version: '1', files: { 'ok.eti': 'ok', 'locked/secret.eti': 'xxxx' } });
      await fs.chmod(path.join(root, 'locked'), 0o000);
      const entry = await scan(dir, 'g');
      await fs.chmod(path.join(root, 'locked'), 0o755);
      expect(entry?.files.map((f) => f.path)).toEqual(['ok.eti', 'version.ini']);
      return;
    }
    // Root reads everything: run the scan as an unprivileged user instead.
    const dir = await tempDir();
    await fs.chmod(dir, 0o755);
    const root = await makeGame(dir, 'g', { version: '1', files: { 'ok.eti': 'ok', 'locked/secret.eti': 'xxxx' } });
    await fs.chmod(path.join(root, 'locked'), 0o000);
    // The unprivileged user may not be able to read the project folder (a clone can be mode 0700):
    // give it a copy of the compiled scanner and the two modules it imports.
    const code = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-scan-code-'));
    onTestFinished(() => fs.rm(code, { recursive: true, force: true }));
    for (const rel of ['library/scanner.js', 'constants.js', 'fs-util.js']) {
      await fs.mkdir(path.dirname(path.join(code, rel)), { recursive: true });
      await fs.copyFile(path.join(PROJECT_ROOT, 'dist/server/runtime', rel), path.join(code, rel));
    }
    await fs.writeFile(path.join(code, 'package.json'), '{"type":"module"}');
    await fs.chmod(code, 0o755);
    await fs.chmod(path.join(code, 'library'), 0o755);
    const script = `const { scanGameRoot } = await import(${JSON.stringify(path.join(code, 'library', 'scanner.js'))});
      const quiet = { debug() {}, info() {}, warn() {}, error() {} };
      const e = await scanGameRoot(${JSON.stringify(dir)}, 'g', undefined, { trustDirMtimes: false, logger: quiet });
      process.stdout.write(JSON.stringify(e.files.map((f) => f.path)));`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534 });
      let text = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (c) => (c === 0 ? resolve(text) : reject(new Error(`scan as nobody failed: ${err}`))));
    });
    expect(JSON.parse(out)).toEqual(['ok.eti', 'version.ini']);
  });
});
