// Downloads between real `lanspread serve` processes over QUIC on loopback,
// 4 MiB chunks. Scenario ids D1–D11 in docs/SCENARIOS.md.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Game, Stats } from '../../shared/api.js';
import { getJson, postJson } from '../helpers/api.js';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { quicClient } from '../helpers/quic-client.js';
import { rawRequest } from '../helpers/peers.js';
import { makeGame, rewriteKeepingMtime, tempDir, waitFor } from '../helpers/temp-dir.js';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const ID = 'openttd';
/** the payloads are random bytes, not RAR archives: download without the automatic install (S24/S25) */
const DOWNLOAD_ONLY = { install: false };

type Node = NodeProcess & { games: string; state: string };

async function node(opts: { games?: string; state?: string; peers?: Node[]; args?: string[] } = {}): Promise<Node> {
  const games = opts.games ?? (await tempDir());
  const state = opts.state ?? (await tempDir());
  const args = ['--quic-port', '0', ...(opts.peers ?? []).flatMap((p) => ['--peer', `127.0.0.1:${p.quicPort}`]), ...(opts.args ?? [])];
  // Sources serve 4 MiB chunks (the default is 16 MiB) so that multi-chunk behaviour shows with small files;
  // the receiver follows the chunk size in the file list.
  const n = await startNode({ games, state, args, env: { LANSPREAD_PING_INTERVAL_MS: '500', LANSPREAD_CHUNK_BYTES: String(CHUNK) } });
  onTestFinished(() => n.stop('SIGKILL'));
  return { ...n, games, state };
}

async function source(payload: Buffer, opts: { version?: string; args?: string[]; files?: Record<string, Buffer> } = {}): Promise<Node> {
  const games = await tempDir();
  await makeGame(games, ID, { version: opts.version ?? '20240601', files: { 'openttd.eti': payload, ...opts.files } });
  return node({ games, args: opts.args ?? [] });
}

const game = async (n: Node) => getJson<Game>(n.url, `/api/games/${ID}`);
const stats = async (n: Node) => getJson<Stats>(n.url, '/api/stats');
const uploaded = async (n: Node) => (await stats(n)).uploadedBytes;

async function seesSources(n: Node, count: number, version = '20240601'): Promise<void> {
  await waitFor(
    async () => {
      const g = await game(n);
      return g.peers === count && g.latestVersion === version ? true : undefined;
    },
    15_000,
    `${count} sources of ${ID}`,
  );
}

async function settled(n: Node, timeoutMs = 60_000): Promise<Game> {
  return waitFor(
    async () => {
      const g = await game(n);
      return g.operation === null ? g : undefined;
    },
    timeoutMs,
    'the operation to end',
  );
}

const fileOf = (n: Node, rel = 'openttd.eti') => fs.readFile(path.join(n.games, ID, rel));

/** Every file below `root`, as relative paths with `/`. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

describe('downloads between real nodes', () => {
  it('D1: two sources split a four-chunk file, each chunk once, byte-identical', async () => {
    const payload = randomBytes(4 * CHUNK);
    const a = await source(payload);
    const b = await source(payload);
    const r = await node({ peers: [a, b] });
    await seesSources(r, 2);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    const done = await settled(r);
    expect(done).toMatchObject({ downloaded: true, installed: false, version: '20240601', lastError: null });
    expect(Buffer.compare(await fileOf(r), payload)).toBe(0);
    // each source sent whole chunks of the archive, at least one, four together; version.ini (9 bytes) went to one
    // of them (how many each takes depends on which chunks each drew first: rarest first, random among equals)
    const sent = [await uploaded(a), await uploaded(b)].map((n) => (n % CHUNK === 9 ? n - 9 : n));
    for (const n of sent) {
      expect(n % CHUNK).toBe(0);
      expect(n).toBeGreaterThanOrEqual(CHUNK);
    }
    expect(sent[0]! + sent[1]!).toBe(4 * CHUNK);
    // and the receiver fetched nothing twice: what it got per peer is exactly what each sent
    const got = await stats(r);
    expect(got.downloadedBytes).toBe(4 * CHUNK + 9);
    const gotFrom = got.peers.map((p) => p.downloadedBytes).sort((x, y) => x - y);
    expect(gotFrom).toEqual([await uploaded(a), await uploaded(b)].sort((x, y) => x - y));
  });

  it('D2: a source much slower than the other gets proportionally less work', async () => {
    const payload = randomBytes(12 * CHUNK);
    const fast = await source(payload);
    const slow = await source(payload, { args: ['--upload-limit', '1M'] });
    const r = await node({ peers: [fast, slow] });
    await seesSources(r, 2);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    expect(await settled(r)).toMatchObject({ downloaded: true, lastError: null });
    expect(Buffer.compare(await fileOf(r), payload)).toBe(0);
    const [f, sl] = [await uploaded(fast), await uploaded(slow)];
    // the endgame may race the slow source's last chunks from the fast one and cancel the slow copies:
    // at most its two chunks in flight are sent twice
    expect(f + sl).toBeGreaterThanOrEqual(12 * CHUNK + 9);
    expect(f + sl).toBeLessThanOrEqual(14 * CHUNK + 9);
    expect(f).toBeGreaterThan(3 * sl);
  });

  it('D3: a source killed mid-download does not fail it; every byte arrives from the survivor', async () => {
    const payload = randomBytes(8 * CHUNK);
    const stay = await source(payload, { args: ['--upload-limit', '6M'] });
    const die = await source(payload, { args: ['--upload-limit', '6M'] });
    const r = await node({ peers: [stay, die] });
    await seesSources(r, 2);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    await waitFor(async () => (((await game(r)).operation?.bytesDone ?? 0) > CHUNK ? true : undefined), 20_000, 'progress');
    await die.stop('SIGKILL');
    const done = await settled(r);
    // no failure over the whole window: the final state says so, not a log tail
    expect(done).toMatchObject({ downloaded: true, lastError: null });
    expect(Buffer.compare(await fileOf(r), payload)).toBe(0);
    expect(await uploaded(stay)).toBeGreaterThan(0);
  });

  it('D4: the sole source killed right after the start fails cleanly', async () => {
    const payload = randomBytes(8 * CHUNK);
    const only = await source(payload, { args: ['--upload-limit', '2M'] });
    const games = await tempDir();
    await makeGame(games, ID, { version: '20230101', files: { 'openttd.eti': Buffer.from('old') } });
    const r = await node({ games, peers: [only] });
    await seesSources(r, 1);
    expect((await postJson(r.url, `/api/games/${ID}/update`, DOWNLOAD_ONLY)).status).toBe(202);
    await waitFor(async () => ((await game(r)).operation?.phase === 'downloading' ? true : undefined), 20_000, 'downloading');
    await only.stop('SIGKILL');
    const done = await settled(r, 60_000);
    expect(done.downloaded).toBe(false);
    expect(done.lastError?.code).toBe('peers_gone');
    const names = await fs.readdir(path.join(games, ID));
    expect(names.filter((n) => n.includes('version.ini'))).toEqual([]);
  });

  it('D5: a source whose disk rotted (right hashes, flipped bytes) is detected and routed around', async () => {
    const payload = randomBytes(6 * CHUNK);
    const honest = await source(payload);
    const rotten = await source(payload);
    // let the rotten source hash its good bytes, then flip bytes keeping size and mtime
    const conn = await quicClient(rotten.quicPort);
    expect((await rawRequest(conn, { type: 'GetGame', id: ID })).answer.type).toBe('GameFiles');
    const file = path.join(rotten.games, ID, 'openttd.eti');
    const bad = Buffer.from(payload);
    for (let i = 0; i < bad.length; i += 65536) bad[i]! ^= 0xff;
    await rewriteKeepingMtime(file, bad);
    const r = await node({ peers: [honest, rotten] });
    await seesSources(r, 2);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    expect(await settled(r)).toMatchObject({ downloaded: true, lastError: null });
    expect(Buffer.compare(await fileOf(r), payload)).toBe(0);
    const rottenId = (await getJson<{ peerId: string }>(rotten.url, '/api/health')).peerId;
    const corrupt = r
      .stderr()
      .split('\n')
      .filter((l) => l.includes('corrupt chunk') && l.includes(rottenId));
    expect(corrupt.length).toBeGreaterThanOrEqual(1);
    expect(corrupt.length).toBeLessThanOrEqual(2); // its first round of requests, then never again
    expect(await uploaded(honest)).toBeGreaterThanOrEqual(6 * CHUNK);
  });

  it('D6: update from version A to version B', async () => {
    const v1 = randomBytes(4 * CHUNK);
    const v2 = Buffer.concat([v1.subarray(0, 2 * CHUNK), randomBytes(3 * CHUNK)]);
    const src = await source(v2, { version: '20250101', files: { 'maps/extra.eti': Buffer.from('new in B') } });
    const games = await tempDir();
    await makeGame(games, ID, { version: '20240601', installed: true, files: { 'openttd.eti': v1, 'local/keep.txt': 'installed files' } });
    const r = await node({ games, peers: [src] });
    await seesSources(r, 1, '20250101');
    expect((await game(r)).version).toBe('20240601');
    expect((await postJson(r.url, `/api/games/${ID}/update`, DOWNLOAD_ONLY)).status).toBe(202);
    const done = await settled(r);
    expect(done).toMatchObject({ downloaded: true, version: '20250101', lastError: null });
    expect(Buffer.compare(await fileOf(r), v2)).toBe(0);
    expect((await fileOf(r, 'maps/extra.eti')).toString()).toBe('new in B');
    expect((await fs.readdir(path.join(games, ID))).filter((n) => n.startsWith('.version.ini'))).toEqual([]);
    // only what changed travelled: 3 new chunks, the new file and version.ini
    expect(await uploaded(src)).toBe(3 * CHUNK + 8 + 9);
  });

  it('D7: cancel removes the partial payload and keeps local/ and install metadata', async () => {
    const only = await source(randomBytes(8 * CHUNK), { args: ['--upload-limit', '2M'] });
    const games = await tempDir();
    const state = await tempDir();
    await makeGame(games, ID, { files: { 'local/game.bin': 'installed' } });
    await fs.mkdir(path.join(state, 'games', ID), { recursive: true });
    await fs.writeFile(path.join(state, 'games', ID, 'keep.json'), '{"mine":true}');
    const r = await node({ games, state, peers: [only] });
    await seesSources(r, 1);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    await waitFor(async () => (((await game(r)).operation?.bytesDone ?? 0) > 0 ? true : undefined), 20_000, 'progress');
    expect((await postJson(r.url, `/api/games/${ID}/cancel`)).status).toBe(202);
    const done = await settled(r);
    expect(done).toMatchObject({ downloaded: false, lastError: null });
    expect(await fs.readdir(path.join(games, ID))).toEqual(['local']);
    expect(await fs.readFile(path.join(games, ID, 'local', 'game.bin'), 'utf8')).toBe('installed');
    expect(await fs.readFile(path.join(state, 'games', ID, 'keep.json'), 'utf8')).toBe('{"mine":true}');
  });

  it('D8: a second request while a download is active is refused with 409; the first continues', async () => {
    const payload = randomBytes(6 * CHUNK);
    const only = await source(payload, { args: ['--upload-limit', '8M'] });
    const r = await node({ peers: [only] });
    await seesSources(r, 1);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    const second = await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: 'operation_active' } });
    expect((await game(r)).operation?.kind).toBe('download');
    expect(await settled(r)).toMatchObject({ downloaded: true, lastError: null });
    expect(Buffer.compare(await fileOf(r), payload)).toBe(0);
  });

  it('D9: a receiver killed mid-download resumes from its verified chunks after the restart', async () => {
    const payload = randomBytes(10 * CHUNK);
    const only = await source(payload, { args: ['--upload-limit', '8M'] });
    const games = await tempDir();
    const state = await tempDir();
    const r1 = await node({ games, state, peers: [only] });
    await seesSources(r1, 1);
    expect((await postJson(r1.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    await waitFor(async () => (((await game(r1)).operation?.bytesDone ?? 0) >= 4 * CHUNK ? true : undefined), 30_000, 'some chunks');
    await r1.stop('SIGKILL');
    const r2 = await node({ games, state, peers: [only] });
    const done = await waitFor(
      async () => {
        const g = await game(r2);
        return g.downloaded && g.operation === null ? g : undefined;
      },
      60_000,
      'resumed download to finish',
    );
    expect(done.lastError).toBeNull();
    expect(Buffer.compare(await fileOf(r2), payload)).toBe(0);
    // after the restart it fetched at most what was missing
    expect((await stats(r2)).downloadedBytes).toBeLessThanOrEqual(7 * CHUNK + 9);
  });

  it('D10: the download limit holds, progress fields agree with each other, and a new limit applies at once', async () => {
    const payload = randomBytes(6 * CHUNK);
    const only = await source(payload);
    const r = await node({ peers: [only], args: ['--download-limit', '3M'] });
    await seesSources(r, 1);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    // sample the operation a few times while limited
    const samples: { bytesDone: number; bytesTotal: number; speed: number; etaSeconds: number | null; peers: number; at: number }[] = [];
    for (let i = 0; i < 8; i++) {
      await new Promise((res) => setTimeout(res, 500));
      const ops = await getJson<
        { id: string; bytesDone: number; bytesTotal: number; speed: number; etaSeconds: number | null; peers: number }[]
      >(r.url, '/api/operations');
      const op = ops.find((o) => o.id === ID);
      if (op && op.speed > 0) samples.push({ ...op, at: Date.now() });
    }
    expect(samples.length).toBeGreaterThanOrEqual(4);
    for (const [i, op] of samples.entries()) {
      expect(op.bytesTotal).toBe(6 * CHUNK + 9);
      // the speed is a 3 s sliding average: the first sample may still hold the moments before the first byte
      if (i > 0) expect(op.speed).toBeGreaterThan(1.5 * MiB);
      expect(op.speed).toBeLessThan(4.5 * MiB); // 3 MiB/s cap, sliding-window average
      expect(op.peers).toBe(1);
      const eta = (op.bytesTotal - op.bytesDone) / op.speed;
      expect(Math.abs((op.etaSeconds ?? -100) - eta)).toBeLessThanOrEqual(1);
    }
    // the measured rate over the window agrees with the reported speed
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const measured = (last.bytesDone - first.bytesDone) / ((last.at - first.at) / 1000);
    expect(measured).toBeGreaterThan(1.5 * MiB);
    expect(measured).toBeLessThan(4.5 * MiB);
    // lift the limit: the rest arrives quickly
    const lifted = Date.now();
    const put = await fetch(new URL('/api/settings', r.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ downloadLimit: 0 }),
    });
    expect(put.status).toBe(200);
    const done = await settled(r);
    expect(done).toMatchObject({ downloaded: true, lastError: null });
    const remaining = 6 * CHUNK - last.bytesDone;
    expect((Date.now() - lifted) / 1000).toBeLessThan(remaining / (3 * MiB));
    expect(Buffer.compare(await fileOf(r), payload)).toBe(0);
  });

  it('D11: a game of 20 files and version.ini arrives as exactly 21 chunks over 21 distinct paths, each once', async () => {
    // each file smaller than a chunk, in three folders, so every file is exactly one chunk
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 20; i++)
      files[`${['', 'data/', 'data/maps/'][i % 3]}part-${i}.bin`] = randomBytes(1024 + ((i * 104_729) % (CHUNK - 1024)));
    const a = await source(Buffer.alloc(0), { files });
    const b = await source(Buffer.alloc(0), { files });
    // the archive named by `source` is empty here: one more path, no bytes
    const all = { ...files, 'openttd.eti': Buffer.alloc(0), 'version.ini': Buffer.from('20240601\n') };
    const r = await node({ peers: [a, b] });
    await seesSources(r, 2);
    expect((await postJson(r.url, `/api/games/${ID}/download`, DOWNLOAD_ONLY)).status).toBe(202);
    expect(await settled(r)).toMatchObject({ downloaded: true, lastError: null });
    const finished = r
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"download finished"'))
      .map((l) => JSON.parse(l) as { chunksByPeer: Record<string, number> });
    expect(finished).toHaveLength(1);
    const perPeer = Object.values(finished[0]!.chunksByPeer);
    // the empty archive needs no chunk: 20 files and version.ini
    expect(perPeer.reduce((x, y) => x + y, 0)).toBe(21);
    expect(perPeer).toHaveLength(2); // both sources served
    // nothing was fetched twice: the sources sent exactly the game's bytes between them
    const total = Object.values(all).reduce((n, f) => n + f.length, 0);
    expect((await uploaded(a)) + (await uploaded(b))).toBe(total);
    // the receiver's root holds exactly these paths, each byte-identical
    const got = await listFiles(path.join(r.games, ID));
    expect(got.sort()).toEqual(Object.keys(all).sort());
    for (const [rel, bytes] of Object.entries(all)) expect(Buffer.compare(await fileOf(r, rel), bytes), rel).toBe(0);
  });
});
