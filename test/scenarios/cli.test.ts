// The command-line client against real nodes. Scenario ids C1–C7 in docs/SCENARIOS.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cleanEnv, cli } from '../helpers/cli.js';
import { CLI, PROJECT_ROOT, startNode } from '../helpers/node-process.js';
import { makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';

/**
 * Runs the CLI in a pseudo-terminal (util-linux `script`), as a person would:
 * the progress bar only draws on a terminal. Resolves with everything it drew.
 */
function cliInTerminal(args: string[], env: Record<string, string>): { output: () => string; exited: Promise<number | null> } {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...cleanEnv(), ...env, COLUMNS: '200', TERM: 'xterm' } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return { output: () => output, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

interface PairOptions {
  /** what the seed has of wesnoth; defaults to a real RAR archive at 20240505 */
  seedPayload?: Buffer;
  playerArgs?: string[];
  playerToken?: string;
  seedEnv?: Record<string, string>;
  /** the player's game dir, prepared before it starts */
  prepare?: (games: string, payload: Buffer) => Promise<void>;
}

async function pair(opts: PairOptions = {}) {
  const seedGames = await tempDir();
  // a real RAR archive, so the automatic install after the download succeeds
  const payload = opts.seedPayload ?? (await fs.readFile(path.join(PROJECT_ROOT, 'test', 'fixtures', 'rar', 'rar5_multiple_files.rar')));
  await makeGame(seedGames, 'wesnoth', { version: '20240505', files: { 'wesnoth.eti': payload } });
  const seed = await startNode({
    games: seedGames,
    state: await tempDir(),
    args: ['--quic-port', '0', '--name', 'seed'],
    ...(opts.seedEnv ? { env: opts.seedEnv } : {}),
  });
  onTestFinished(() => seed.stop('SIGKILL'));
  const games = await tempDir();
  await opts.prepare?.(games, payload);
  const player = await startNode({
    games,
    state: await tempDir(),
    args: [
      '--quic-port',
      '0',
      '--peer',
      `127.0.0.1:${seed.quicPort}`,
      '--name',
      'player',
      ...(opts.playerToken ? ['--token', opts.playerToken] : []),
      ...(opts.playerArgs ?? []),
    ],
  });
  onTestFinished(() => player.stop('SIGKILL'));
  const auth = opts.playerToken ? ['--token', opts.playerToken] : [];
  await waitFor(
    async () => {
      const r = await cli(['games', '--url', player.url, '--json', ...auth]);
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
    const { seed, player, games, payload } = await pair();
    const r = await cli(['download', 'wesnoth', '--url', player.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/download of wesnoth finished: installed \(version 20240505\)/);
    expect(Buffer.compare(await fs.readFile(path.join(games, 'wesnoth', 'wesnoth.eti')), payload)).toBe(0);
    expect((await fs.readdir(path.join(games, 'wesnoth', 'local'))).length).toBeGreaterThan(0);
    // the seed's status says whom it sent to, and how much
    const seedStatus = await cli(['status', '--url', seed.url]);
    expect(seedStatus.stdout).toMatch(/sent to:\s+player \d[\d.]* [KMG]?i?B/);
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

  it('C4: update, uninstall, install and remove each run on the node and say how they ended', async () => {
    const { player, games } = await pair({
      // the player has an older version, installed
      prepare: async (dir, payload) => {
        await makeGame(dir, 'wesnoth', { version: '20240101', installed: true, files: { 'wesnoth.eti': payload } });
      },
    });
    const root = path.join(games, 'wesnoth');
    const before = await cli(['games', '--url', player.url]);
    expect(before.stdout).toMatch(/wesnoth.*installed \(update available\).*20240101.*20240505/);

    const update = await cli(['update', 'wesnoth', '--url', player.url]);
    expect(update.stderr).toBe('');
    expect(update.code).toBe(0);
    expect(update.stdout).toMatch(/update of wesnoth finished: installed \(version 20240505\)/);
    expect((await fs.readFile(path.join(root, 'version.ini'), 'utf8')).trim()).toBe('20240505');
    expect((await fs.readdir(path.join(root, 'local'))).length).toBeGreaterThan(0);

    const uninstall = await cli(['uninstall', 'wesnoth', '--url', player.url]);
    expect(uninstall.code).toBe(0);
    expect(uninstall.stdout).toMatch(/uninstall of wesnoth finished: downloaded/);
    expect(await exists(path.join(root, 'local'))).toBe(false);

    const install = await cli(['install', 'wesnoth', '--url', player.url]);
    expect(install.code).toBe(0);
    expect(install.stdout).toMatch(/install of wesnoth finished: installed/);
    expect((await fs.readdir(path.join(root, 'local'))).length).toBeGreaterThan(0);

    // remove refuses while installed: one line, non-zero, nothing touched
    const refused = await cli(['remove', 'wesnoth', '--url', player.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(await exists(path.join(root, 'version.ini'))).toBe(true);

    expect((await cli(['uninstall', 'wesnoth', '--url', player.url])).code).toBe(0);
    const remove = await cli(['remove', 'wesnoth', '--url', player.url, '--json']);
    expect(remove.code).toBe(0);
    expect(JSON.parse(remove.stdout)).toMatchObject({ id: 'wesnoth' });
    await waitFor(async () => ((await exists(path.join(root, 'version.ini'))) ? undefined : true), 10_000, 'the files removed');
    expect(await exists(path.join(root, 'wesnoth.eti'))).toBe(false);
    const after = JSON.parse((await cli(['games', '--url', player.url, '--json'])).stdout) as { id: string; downloaded: boolean }[];
    expect(after.find((g) => g.id === 'wesnoth')?.downloaded).toBe(false);
  }, 60_000); // about ten command-line processes, each a Node start

  it('C5: against a node with a token, --token or LANSPREAD_URL/LANSPREAD_TOKEN; without it one line and exit 1', async () => {
    const token = 'cli-test-token-0123456789';
    const { player } = await pair({ playerToken: token });
    const none = await cli(['games', '--url', player.url]);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe('lanspread: a valid access token is required (Authorization: Bearer TOKEN)');
    const wrong = await cli(['games', '--url', player.url, '--token', 'wrong-token-0123456789']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);

    const flags = await cli(['peers', '--url', player.url, '--token', token, '--json']);
    expect(flags.code).toBe(0);
    expect((JSON.parse(flags.stdout) as { name: string }[]).map((p) => p.name)).toEqual(['seed']);
    const fromEnv = await cli(['status'], { LANSPREAD_URL: player.url, LANSPREAD_TOKEN: token });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toMatch(/Node "player"/);
    // a flag beats the environment
    const flagWins = await cli(['status', '--token', 'wrong-token-0123456789'], { LANSPREAD_URL: player.url, LANSPREAD_TOKEN: token });
    expect(flagWins.code).toBe(1);
    const urlWins = await cli(['status', '--url', 'http://127.0.0.1:9'], { LANSPREAD_URL: player.url, LANSPREAD_TOKEN: token });
    expect(urlWins.stderr).toMatch(/no Lanspread node answers at http:\/\/127\.0\.0\.1:9/);
  }, 60_000); // about ten command-line processes, each a Node start

  it('C6: a followed download draws a progress bar with speed and ETA; cancel stops it and the follower exits 1', async () => {
    const token = 'cli-test-token-0123456789';
    // 6 MiB, in 64 KiB chunks, to a player capped at 512 KiB/s: about 12 s of download to watch
    const { player, games } = await pair({
      seedPayload: randomBytes(6 * 1024 * 1024),
      seedEnv: { LANSPREAD_CHUNK_BYTES: String(64 * 1024) },
      playerToken: token,
      playerArgs: ['--download-limit', '512K'],
    });
    const env = { LANSPREAD_URL: player.url, LANSPREAD_TOKEN: token };
    const follower = cliInTerminal(['download', 'wesnoth'], env);
    // e.g. "download wesnoth [████░░░] 23% | 1.4 MiB of 6.0 MiB | 512 KiB/s | ETA 0:09 | downloading"
    const bar = /download wesnoth \[.*\] \d+% \| [\d.]+ [KM]iB of 6\.0 MiB \| [\d.]+ [KM]iB\/s \| ETA \d+:\d\d/;
    await waitFor(() => (bar.test(follower.output()) ? true : undefined), 30_000, 'a progress bar with speed and ETA').catch(
      (err: Error) => {
        throw new Error(`${err.message}; the terminal showed:\n${JSON.stringify(follower.output().slice(-2000))}`);
      },
    );

    const cancel = await cli(['cancel', 'wesnoth'], env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout.trim()).toBe('Cancelled the download of wesnoth.');
    expect(await follower.exited).toBe(1);
    expect(follower.output()).toMatch(/lanspread: download of wesnoth was cancelled/);
    const after = JSON.parse((await cli(['games', '--json'], env)).stdout) as { id: string; downloaded: boolean; operation: unknown }[];
    expect(after.find((g) => g.id === 'wesnoth')).toMatchObject({ downloaded: false, operation: null });
    expect(await exists(path.join(games, 'wesnoth', 'version.ini'))).toBe(false);
    const ended = player
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"operation_end"'))
      .map((l) => JSON.parse(l) as { id: string; kind: string; outcome: string });
    expect(ended.map((l) => [l.id, l.kind, l.outcome])).toEqual([['wesnoth', 'download', 'cancelled']]);
  }, 60_000);

  it('C7: the node logs one JSON line when each operation starts and one when it ends, with its outcome', async () => {
    const { player } = await pair({
      prepare: async (dir, payload) => {
        await makeGame(dir, 'wesnoth', { version: '20240101', files: { 'wesnoth.eti': payload } });
        await makeGame(dir, 'openra', { version: '20240328', files: { 'openra.eti': 'not a rar archive' } });
      },
    });
    expect((await cli(['install', 'wesnoth', '--url', player.url])).code).toBe(0);
    // an archive that is not RAR: the install starts, then fails
    const broken = await cli(['install', 'openra', '--url', player.url]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/install of openra failed/);
    expect((await cli(['uninstall', 'wesnoth', '--url', player.url])).code).toBe(0);

    const lines = player
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ops = lines.filter((l) => l.event === 'operation_start' || l.event === 'operation_end');
    expect(ops.map((l) => [l.event, l.kind, l.id, l.outcome ?? null, l.code ?? null])).toEqual([
      ['operation_start', 'install', 'wesnoth', null, null],
      ['operation_end', 'install', 'wesnoth', 'ok', null],
      ['operation_start', 'install', 'openra', null, null],
      ['operation_end', 'install', 'openra', 'error', expect.any(String)],
      ['operation_start', 'uninstall', 'wesnoth', null, null],
      ['operation_end', 'uninstall', 'wesnoth', 'ok', null],
    ]);
    for (const l of ops) {
      expect(l.component).toBe('operations');
      expect(typeof l.time).toBe('string');
      expect(l.level).toBe(l.outcome === 'error' ? 40 : 30);
    }
    // the API calls that started them are logged too, with their answer (at info; reads at debug)
    const calls = lines.filter((l) => l.msg === 'api call' && l.level === 30).map((l) => `${l.method} ${l.path} ${l.status}`);
    expect(lines.some((l) => l.msg === 'api call' && l.method === 'GET' && l.level === 20)).toBe(true);
    expect(calls).toEqual([
      'POST /api/games/wesnoth/install 202',
      'POST /api/games/openra/install 202',
      'POST /api/games/wesnoth/uninstall 202',
    ]);
  });
});

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
