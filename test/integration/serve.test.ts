// The real `lanspread serve` process: starts, answers, keeps its identity,
// and refuses bad configuration with one clear line and a non-zero exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadOrCreateIdentity } from '../../server/runtime/transport/identity.js';
import { getJson } from '../helpers/api.js';
import { CLI, startNode } from '../helpers/node-process.js';
import { makeGame, tempDir } from '../helpers/temp-dir.js';

async function runCli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('lanspread serve', () => {
  it('serves /api/health and the dashboard, and keeps its peer id across restarts', async () => {
    const games = await tempDir();
    const state = await tempDir();
    await makeGame(games, 'openttd', { version: '20240601' });
    const node = await startNode({ games, state });
    onTestFinished(() => node.stop());
    const health = (await (await fetch(new URL('/api/health', node.url))).json()) as { peerId: string; name: string };
    expect(health).toMatchObject({ ok: true, peerId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const list = (await (await fetch(new URL('/api/games', node.url))).json()) as { id: string; downloaded: boolean }[];
    expect(list.find((g) => g.id === 'openttd')?.downloaded).toBe(true);
    const page = await fetch(node.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="app"|<script/);
    await node.stop();
    expect(await node.exited).toBe(0);

    const again = await startNode({ games, state });
    onTestFinished(() => again.stop());
    const health2 = (await (await fetch(new URL('/api/health', again.url))).json()) as { peerId: string };
    expect(health2.peerId).toBe(health.peerId);
  });

  it('creates missing default folders', async () => {
    const home = await tempDir();
    const node = await startNode({ games: path.join(home, 'new-games'), state: path.join(home, 'new-state') });
    onTestFinished(() => node.stop());
    expect((await fs.stat(path.join(home, 'new-games'))).isDirectory()).toBe(true);
    // The node's key is made on first start (mode 0600) and its peer id derived from it.
    const health = await getJson<{ peerId: string }>(node.url, '/api/health');
    expect((await fs.stat(path.join(home, 'new-state', 'node-key'))).mode & 0o777).toBe(0o600);
    expect(health.peerId).toBe((await loadOrCreateIdentity(path.join(home, 'new-state'))).peerId);
  });

  it('refuses a port in use, a game dir that is a file, and a bad catalog, each with one line', async () => {
    const state = await tempDir();
    const games = await tempDir();
    const node = await startNode({ games, state });
    onTestFinished(() => node.stop());
    const port = new URL(node.url).port;

    const busy = await runCli(['serve', '--games', games, '--state', await tempDir(), '--http', `127.0.0.1:${port}`, '--no-mdns']);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr.trim().split('\n').at(-1)).toBe(
      `lanspread: --http: 127.0.0.1:${port} is already in use (is another Lanspread node running?)`,
    );

    const file = path.join(games, 'not-a-dir');
    await fs.writeFile(file, '');
    const notDir = await runCli(['serve', '--games', file, '--state', await tempDir(), '--http', '127.0.0.1:0', '--no-mdns']);
    expect(notDir.code).not.toBe(0);
    expect(notDir.stderr).toContain(`lanspread: game dir ${file} is not a directory`);
    expect(notDir.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user error

    const catalog = path.join(games, 'catalog.json');
    await fs.writeFile(catalog, JSON.stringify({ games: [{ id: 'x', name: 'X', description: '', size: 'big', eti_version: '1' }] }));
    const badCatalog = await runCli([
      'serve',
      '--games',
      games,
      '--state',
      await tempDir(),
      '--http',
      '127.0.0.1:0',
      '--catalog',
      catalog,
      '--no-mdns',
    ]);
    expect(badCatalog.code).not.toBe(0);
    expect(badCatalog.stderr).toMatch(/entry 0 \("x"\), field "size"/);

    const badFlag = await runCli(['serve', '--http', 'nonsense']);
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr).toContain('--http: expected HOST:PORT');
  });

  it('takes its settings from environment variables', async () => {
    const node = await startNode({ games: await tempDir(), state: await tempDir(), env: { LANSPREAD_NAME: 'from-env' } });
    onTestFinished(() => node.stop());
    const health = (await (await fetch(new URL('/api/health', node.url))).json()) as { peerId: string; name: string };
    expect(health.name).toBe('from-env');
  });

  it('off localhost, generates a token, prints it, and requires it', async () => {
    const state = await tempDir();
    const node = await startNode({ games: await tempDir(), state, http: '0.0.0.0:0' });
    onTestFinished(() => node.stop());
    const token = (await fs.readFile(path.join(state, 'api-token'), 'utf8')).trim();
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect(node.stdout()).toContain(`API token: ${token}`);
    const url = node.url.replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(new URL('/api/health', url))).status).toBe(401);
    const ok = await fetch(new URL('/api/health', url), { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  });
});
