// The command-line client against real nodes. Scenario ids C1–C3 in docs/SCENARIOS.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, PROJECT_ROOT, startNode } from '../helpers/node-process.js';
import { makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function pair() {
  const seedGames = await tempDir();
  // a real RAR archive, so the automatic install after the download succeeds
  const payload = await fs.readFile(path.join(PROJECT_ROOT, 'test', 'fixtures', 'rar', 'rar5_multiple_files.rar'));
  await makeGame(seedGames, 'wesnoth', { version: '20240505', files: { 'wesnoth.eti': payload } });
  const seed = await startNode({ games: seedGames, state: await tempDir(), args: ['--quic-port', '0', '--name', 'seed'] });
  onTestFinished(() => seed.stop('SIGKILL'));
  const games = await tempDir();
  const player = await startNode({
    games,
    state: await tempDir(),
    args: ['--quic-port', '0', '--peer', `127.0.0.1:${seed.quicPort}`, '--name', 'player'],
  });
  onTestFinished(() => player.stop('SIGKILL'));
  await waitFor(
    async () => {
      const r = await cli(['games', '--url', player.url, '--json']);
      return (JSON.parse(r.stdout) as { id: string; peers: number }[]).find((g) => g.id === 'wesnoth')?.peers === 1 ? true : undefined;
    },
    15_000,
    'player sees the seed’s game',
  );
  return { seed, player, games, payload };
}

describe('the lanspread command line against real nodes', () => {
  it('C1: peers, games and status print tables and JSON', async () => {
    const { player } = await pair();
    const peers = await cli(['peers', '--url', player.url]);
    expect(peers.code).toBe(0);
    expect(peers.stdout).toMatch(/seed/);
    const peersJson = JSON.parse((await cli(['peers', '--url', player.url, '--json'])).stdout) as { name: string }[];
    expect(peersJson.map((p) => p.name)).toEqual(['seed']);
    const games = await cli(['games', '--url', player.url]);
    expect(games.stdout).toMatch(/wesnoth.*available/);
    const status = await cli(['status', '--url', player.url]);
    expect(status.stdout).toMatch(/Node "player"/);
    expect(status.stdout).toMatch(/peers:\s+1/);
  });

  it('C2: download follows the operation to its end and exits 0', async () => {
    const { player, games, payload } = await pair();
    const r = await cli(['download', 'wesnoth', '--url', player.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/download of wesnoth finished: installed \(version 20240505\)/);
    expect(Buffer.compare(await fs.readFile(path.join(games, 'wesnoth', 'wesnoth.eti')), payload)).toBe(0);
    expect((await fs.readdir(path.join(games, 'wesnoth', 'local'))).length).toBeGreaterThan(0);
  });

  it('C3: errors are one clear line and a non-zero exit', async () => {
    const { player } = await pair();
    const unknown = await cli(['download', 'zulu', '--url', player.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('lanspread: no game with id "zulu" in the catalog');
    const notInstalled = await cli(['install', 'wesnoth', '--url', player.url]);
    expect(notInstalled.code).toBe(1);
    expect(notInstalled.stderr.trim().split('\n')).toHaveLength(1);
    const nobody = await cli(['status', '--url', 'http://127.0.0.1:9']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no Lanspread node answers/);
  });
});
