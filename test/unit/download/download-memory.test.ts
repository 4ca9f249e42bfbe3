// Downloads between in-process nodes on the in-memory transport, 64 KiB chunks.
// The same scenarios run with real processes over QUIC in test/scenarios.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PeerEvent } from '../../../shared/events.js';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { makeGame, rewriteKeepingMtime, tempDir, waitFor } from '../../helpers/temp-dir.js';
import { startMemoryNode } from '../../helpers/peers.js';

const CHUNK = 64 * 1024;

async function seed(
  net: MemoryNetwork,
  port: number,
  files: Record<string, Buffer>,
  version = '20240101',
  extra: Partial<Parameters<typeof startMemoryNode>[0]> = {},
) {
  const gameDir = await tempDir();
  await makeGame(gameDir, 'alpha', { version, files });
  return startMemoryNode({ net, port, gameDir, ...extra });
}

function events(node: { runtime: { subscribe(l: (e: PeerEvent) => void): () => void } }) {
  const seen: PeerEvent[] = [];
  node.runtime.subscribe((e) => seen.push(e));
  return seen;
}

const finished = (seen: PeerEvent[]) =>
  waitFor(() => seen.find((e) => e.type === 'DownloadGameFilesFinished' || e.type === 'DownloadGameFilesFailed'), 15_000, 'download end');

describe('downloads (in-memory transport)', () => {
  it('splits a four-chunk file between two sources, each chunk once, byte-identical', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(4 * CHUNK);
    const a = await seed(net, 101, { 'alpha.eti': payload });
    const b = await seed(net, 102, { 'alpha.eti': payload });
    const c = await startMemoryNode({ net, port: 103, peers: [101, 102] });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 2 ? true : undefined), 3_000, 'two sources');
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    expect((await finished(seen)).type).toBe('DownloadGameFilesFinished');
    expect(Buffer.compare(await fs.readFile(path.join(c.gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
    expect(await fs.readFile(path.join(c.gameDir, 'alpha', 'version.ini'), 'utf8')).toBe('20240101\n');
    const result = c.runtime.lastDownload('alpha')!;
    const archive = result.deliveries.filter((d) => d.path === 'alpha.eti');
    const byPeer = (id: string) => archive.filter((d) => d.peerId === id).length;
    // both sources worked (which takes how many depends on which chunks each drew first: rarest first, random
    // among equals), and together they sent the file exactly once
    expect(byPeer(a.runtime.peerId)).toBeGreaterThanOrEqual(1);
    expect(byPeer(b.runtime.peerId)).toBeGreaterThanOrEqual(1);
    expect(byPeer(a.runtime.peerId) + byPeer(b.runtime.peerId)).toBe(4);
    expect(archive.reduce((n, d) => n + d.length, 0)).toBe(payload.length);
    expect(new Set(archive.map((d) => d.offset)).size).toBe(4); // no chunk fetched twice
    expect(seen.filter((e) => e.type === 'DownloadGameFilesFinished')).toHaveLength(1);
    // nothing is left to resume after a restart
    await expect(fs.access(path.join(c.stateDir, 'games', 'alpha', 'download.json'))).rejects.toThrow();
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.downloaded ? true : undefined), 2_000, 'downloaded after rescan');
  });

  it('gives up on a source that goes silent mid-chunk, but not on one that is slow and steady', async () => {
    const net = new MemoryNetwork();
    const MiB = 1024 * 1024;
    const payload = randomBytes(4 * MiB);
    // 1 MiB chunks, sent in 256 KiB pieces; the receiver allows 1.5 s without data. One source at
    // 1 byte/s answers each request, then sends nothing. The other at 1 MiB/s, shared by its two
    // requests, takes about 2 s per chunk, but a piece comes every 0.5 s or so.
    const silent = await seed(net, 141, { 'alpha.eti': payload }, '20240101', { uploadLimit: 1, chunkSize: MiB });
    const steady = await seed(net, 142, { 'alpha.eti': payload }, '20240101', { uploadLimit: MiB, chunkSize: MiB });
    const c = await startMemoryNode({ net, port: 143, peers: [141, 142], chunkTimeoutMs: 1_500 });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 2 ? true : undefined), 3_000, 'two sources');
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    expect((await finished(seen)).type).toBe('DownloadGameFilesFinished');
    await silent.runtime.updateSettings({ uploadLimit: 0 }); // let its stuck uploads go
    expect(Buffer.compare(await fs.readFile(path.join(c.gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
    const { deliveries } = c.runtime.lastDownload('alpha')!;
    expect(deliveries.filter((d) => d.path === 'alpha.eti').map((d) => d.peerId)).toEqual(Array(4).fill(steady.runtime.peerId));
  });

  it('retries a sole source after each failure (the retry reset) until the attempt cap fails the download', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(2 * CHUNK);
    // The only source answers each request, then sends nothing (1 byte/s): every attempt times out.
    // Without the retry reset, a failed chunk never goes back to the peer that failed it, and the
    // download would wait for another source forever instead of ending.
    const silent = await seed(net, 151, { 'alpha.eti': payload }, '20240101', { uploadLimit: 1 });
    const c = await startMemoryNode({ net, port: 152, peers: [151], chunkTimeoutMs: 200 });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'one source');
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    const end = await finished(seen);
    await silent.runtime.updateSettings({ uploadLimit: 0 }); // let its stuck uploads go
    expect(end).toMatchObject({ type: 'DownloadGameFilesFailed', error: { code: 'peers_gone' } });
    expect((end as { error: { message: string } }).error.message).toMatch(/chunk \d failed 5 times/);
  });

  it('gives a slow source proportionally less work', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(24 * CHUNK);
    const fast = await seed(net, 111, { 'alpha.eti': payload });
    const slow = await seed(net, 112, { 'alpha.eti': payload }, '20240101', { uploadLimit: 256 * 1024 });
    const c = await startMemoryNode({ net, port: 113, peers: [111, 112] });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 2 ? true : undefined), 3_000, 'two sources');
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    expect((await finished(seen)).type).toBe('DownloadGameFilesFinished');
    const { chunksByPeer } = c.runtime.lastDownload('alpha')!;
    expect(chunksByPeer[fast.runtime.peerId]).toBeGreaterThan(3 * (chunksByPeer[slow.runtime.peerId] ?? 0));
    expect(Buffer.compare(await fs.readFile(path.join(c.gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
  });

  it('routes around a source whose bytes do not match its hashes, and never uses it again', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(8 * CHUNK);
    const good = await seed(net, 121, { 'alpha.eti': payload });
    const bad = await seed(net, 122, { 'alpha.eti': payload });
    // the bad source hashes its good bytes once (GetGame), then its disk rots: same size and mtime, flipped bytes
    const file = path.join(bad.gameDir, 'alpha', 'alpha.eti');
    const c = await startMemoryNode({ net, port: 123, peers: [121, 122] });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 2 ? true : undefined), 3_000, 'two sources');
    const { rawClient, rawRequest } = await import('../../helpers/peers.js');
    await rawRequest(await rawClient(net, 122), { type: 'GetGame', id: 'alpha' }); // hashes cached
    const rotten = Buffer.from(payload);
    for (let i = 0; i < rotten.length; i += 4096) rotten[i]! ^= 0xff;
    await rewriteKeepingMtime(file, rotten);
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    expect((await finished(seen)).type).toBe('DownloadGameFilesFinished');
    expect(Buffer.compare(await fs.readFile(path.join(c.gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
    const { deliveries, corrupt } = c.runtime.lastDownload('alpha')!;
    // every byte of its archive is rotten: none of its chunks of it landed (its version.ini is sound, and may)
    expect(deliveries.filter((d) => d.peerId === bad.runtime.peerId && d.path === 'alpha.eti')).toEqual([]);
    // detected, and the liar is asked no more than its first round of requests (2 slots)
    expect(corrupt.length).toBeGreaterThanOrEqual(1);
    expect(corrupt.length).toBeLessThanOrEqual(2);
    expect(corrupt.every((x) => x.peerId === bad.runtime.peerId)).toBe(true);
    expect(deliveries.filter((d) => d.path === 'alpha.eti').length).toBe(8);
    void good;
  });

  it('survives a source that dies mid-download while another has the bytes', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(32 * CHUNK);
    const stay = await seed(net, 131, { 'alpha.eti': payload }, '20240101', { uploadLimit: 1024 * 1024 });
    const die = await seed(net, 132, { 'alpha.eti': payload }, '20240101', { uploadLimit: 1024 * 1024 });
    const c = await startMemoryNode({ net, port: 133, peers: [131, 132] });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 2 ? true : undefined), 3_000, 'two sources');
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    await waitFor(() => seen.find((e) => e.type === 'DownloadGameFilesProgress' && e.bytesDone > 4 * CHUNK), 5_000, 'some progress');
    await die.runtime.close();
    const end = await finished(seen);
    expect(end.type).toBe('DownloadGameFilesFinished');
    expect(seen.some((e) => e.type === 'DownloadGameFilesFailed' || e.type === 'DownloadPeersGone')).toBe(false);
    expect(Buffer.compare(await fs.readFile(path.join(c.gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
    const { chunksByPeer } = c.runtime.lastDownload('alpha')!;
    expect(chunksByPeer[stay.runtime.peerId]).toBeGreaterThan(0);
  });

  it('fails cleanly when the only source dies: lastError, sentinels swept, not downloaded', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(32 * CHUNK);
    const only = await seed(net, 141, { 'alpha.eti': payload }, '20240101', { uploadLimit: 512 * 1024 });
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha', { version: '20230101', installed: true, files: { 'alpha.eti': 'old' } });
    const c = await startMemoryNode({ net, port: 142, peers: [141], gameDir });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'source');
    const seen = events(c);
    await c.runtime.execute({ type: 'FetchLatestFromPeers', id: 'alpha', install: false });
    await waitFor(() => seen.find((e) => e.type === 'DownloadGameFilesBegin'), 5_000, 'begin');
    await only.runtime.close();
    const end = await finished(seen);
    expect(end.type).toBe('DownloadGameFilesFailed');
    expect(seen.some((e) => e.type === 'DownloadPeersGone')).toBe(true);
    const game = await waitFor(
      () => {
        const g = c.runtime.games().find((x) => x.id === 'alpha');
        return g && g.operation === null && g.downloaded === false ? g : undefined;
      },
      3_000,
      'not downloaded',
    );
    expect(game.lastError).toMatchObject({ code: 'peers_gone' });
    const names = await fs.readdir(path.join(gameDir, 'alpha'));
    expect(names).not.toContain('version.ini');
    expect(names).not.toContain('.version.ini.tmp');
    expect(names).not.toContain('.version.ini.discarded');
    expect(names).toContain('local'); // the install is not touched
  });

  it('updates from version A to version B, reusing unchanged chunks', async () => {
    const net = new MemoryNetwork();
    const v1 = randomBytes(8 * CHUNK);
    const v2 = Buffer.concat([v1.subarray(0, 6 * CHUNK), randomBytes(3 * CHUNK)]);
    const src = await seed(net, 151, { 'alpha.eti': v2, 'data/new.eti': Buffer.from('new file') }, '20250101');
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha', { version: '20240101', files: { 'alpha.eti': v1 } });
    const c = await startMemoryNode({ net, port: 152, peers: [151], gameDir });
    await waitFor(
      () => (c.runtime.games().find((g) => g.id === 'alpha')?.latestVersion === '20250101' ? true : undefined),
      3_000,
      'newer version seen',
    );
    const seen = events(c);
    await c.runtime.execute({ type: 'FetchLatestFromPeers', id: 'alpha', install: false });
    expect((await finished(seen)).type).toBe('DownloadGameFilesFinished');
    expect(Buffer.compare(await fs.readFile(path.join(gameDir, 'alpha', 'alpha.eti')), v2)).toBe(0);
    expect(await fs.readFile(path.join(gameDir, 'alpha', 'data/new.eti'), 'utf8')).toBe('new file');
    expect(await fs.readFile(path.join(gameDir, 'alpha', 'version.ini'), 'utf8')).toBe('20250101\n');
    expect((await fs.readdir(path.join(gameDir, 'alpha'))).filter((n) => n.startsWith('.version.ini'))).toEqual([]);
    const result = c.runtime.lastDownload('alpha')!;
    expect(result.chunksReused).toBe(6);
    expect(
      result.deliveries
        .filter((d) => d.path === 'alpha.eti')
        .map((d) => d.offset)
        .sort((x, y) => x - y),
    ).toEqual([6, 7, 8].map((i) => i * CHUNK));
    void src;
  });

  it('cancel removes the partial payload but keeps local/ and install metadata', async () => {
    const net = new MemoryNetwork();
    await seed(net, 161, { 'alpha.eti': randomBytes(32 * CHUNK), 'sub/b.eti': randomBytes(CHUNK) }, '20240101', {
      uploadLimit: 256 * 1024,
    });
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    await makeGame(gameDir, 'alpha', { installed: true, files: { 'local/game.exe': 'installed' } });
    await fs.mkdir(path.join(stateDir, 'games', 'alpha'), { recursive: true });
    await fs.writeFile(path.join(stateDir, 'games', 'alpha', 'keep.json'), '{}');
    const c = await startMemoryNode({ net, port: 162, peers: [161], gameDir, stateDir });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'source');
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    await waitFor(() => seen.find((e) => e.type === 'DownloadGameFilesProgress' && e.bytesDone > 0), 5_000, 'progress');
    await c.runtime.execute({ type: 'CancelDownload', id: 'alpha' });
    await waitFor(() => seen.find((e) => e.type === 'DownloadGameFilesCancelled'), 5_000, 'cancelled');
    const names = (await fs.readdir(path.join(gameDir, 'alpha'))).sort();
    expect(names).toEqual(['local']);
    expect(await fs.readFile(path.join(gameDir, 'alpha', 'local', 'game.exe'), 'utf8')).toBe('installed');
    expect(await fs.readFile(path.join(stateDir, 'games', 'alpha', 'keep.json'), 'utf8')).toBe('{}');
    expect(seen.some((e) => e.type === 'DownloadGameFilesFailed')).toBe(false);
  });

  it('refuses a second request while a download is active, and the first continues', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(16 * CHUNK);
    await seed(net, 171, { 'alpha.eti': payload }, '20240101', { uploadLimit: 512 * 1024 });
    const c = await startMemoryNode({ net, port: 172, peers: [171] });
    await waitFor(() => (c.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'source');
    const seen = events(c);
    await c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    await expect(c.runtime.execute({ type: 'GetGame', id: 'alpha', install: false })).rejects.toMatchObject({ code: 'operation_active' });
    expect(c.runtime.games().find((g) => g.id === 'alpha')?.operation?.kind).toBe('download');
    expect((await finished(seen)).type).toBe('DownloadGameFilesFinished');
    expect(Buffer.compare(await fs.readFile(path.join(c.gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
  });

  it('resumes an interrupted download after a restart from its verified chunks', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(32 * CHUNK);
    await seed(net, 181, { 'alpha.eti': payload }, '20240101', { uploadLimit: 1024 * 1024 });
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const c1 = await startMemoryNode({ net, port: 182, peers: [181], gameDir, stateDir });
    await waitFor(() => (c1.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'source');
    const seen = events(c1);
    await c1.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    await waitFor(() => seen.find((e) => e.type === 'DownloadGameFilesProgress' && e.bytesDone >= 10 * CHUNK), 10_000, 'a third done');
    await c1.runtime.close();
    expect(seen.some((e) => e.type === 'DownloadGameFilesFailed')).toBe(false);
    const c2 = await startMemoryNode({ net, port: 182, peers: [181], gameDir, stateDir });
    const seen2 = events(c2);
    expect((await finished(seen2)).type).toBe('DownloadGameFilesFinished');
    expect(Buffer.compare(await fs.readFile(path.join(gameDir, 'alpha', 'alpha.eti')), payload)).toBe(0);
    const result = c2.runtime.lastDownload('alpha')!;
    expect(result.chunksReused).toBeGreaterThanOrEqual(8);
    expect(result.chunksReused + result.deliveries.filter((d) => d.path === 'alpha.eti').length).toBe(32);
  });
});
