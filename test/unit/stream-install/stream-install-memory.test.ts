// Streamed installs between in-process nodes on the in-memory transport: the
// service, the sender (through the protocol server) and the transactions
// together. The same behaviours run with real processes over QUIC in
// test/scenarios/stream-install.test.ts.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { PeerEvent } from '../../../shared/events.js';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { STREAMED_VERSION_FILE } from '../../../server/runtime/stream-install/streamed-version.js';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { rarFixture } from '../../helpers/fixtures.js';
import { startMemoryNode } from '../../helpers/peers.js';
import { startTestRuntime } from '../../helpers/runtime.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';
import { hasUpdate } from '../../../web/src/lib/library.js';

async function seed(net: MemoryNetwork, port: number, fixture: string, extra: Partial<Parameters<typeof startMemoryNode>[0]> = {}) {
  const gameDir = await tempDir();
  await makeGame(gameDir, 'alpha', { version: '20240101', files: { 'alpha.eti': await fs.readFile(rarFixture(fixture)) } });
  return startMemoryNode({ net, port, gameDir, ...extra });
}

async function tree(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, { [`${p}/`]: 'dir' }, await tree(dir, p));
    else
      out[p] = createHash('sha256')
        .update(await fs.readFile(path.join(dir, p)))
        .digest('hex');
  }
  return out;
}

function events(node: { runtime: { subscribe(l: (e: PeerEvent) => void): () => void } }) {
  const seen: PeerEvent[] = [];
  node.runtime.subscribe((e) => seen.push(e));
  return seen;
}

const ended = (seen: PeerEvent[]) =>
  waitFor(() => seen.find((e) => e.type === 'InstallGameFinished' || e.type === 'InstallGameFailed'), 20_000, 'stream install end');

describe('streamed install (in-memory transport)', () => {
  it('installs from a peer without storing the archive; the tree equals a local extraction', async () => {
    const net = new MemoryNetwork();
    await seed(net, 201, 'rar5_win32.rar');
    const r = await startMemoryNode({ net, port: 202, peers: [201] });
    await waitFor(() => (r.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'a source');
    const seen = events(r);
    await r.runtime.execute({ type: 'StreamInstallGame', id: 'alpha' });
    expect(r.runtime.listOperations()[0]).toMatchObject({ id: 'alpha', kind: 'stream-install' });
    expect((await ended(seen)).type).toBe('InstallGameFinished');
    const expected = await tempDir();
    await new RarUnpacker({ checkFreeSpace: false }).extract([rarFixture('rar5_win32.rar')], expected);
    expect(await tree(path.join(r.gameDir, 'alpha', 'local'))).toEqual(await tree(expected));
    expect((await fs.readdir(path.join(r.gameDir, 'alpha'))).sort()).toEqual(['local']);
    await expect(fs.access(path.join(r.stateDir, 'games', 'alpha', 'install_intent.json'))).rejects.toThrow();
    const game = await waitFor(() => {
      const g = r.runtime.games().find((x) => x.id === 'alpha');
      return g?.operation === null && g.installed ? g : undefined;
    });
    expect(game).toMatchObject({ installed: true, downloaded: false, lastError: null });
    expect(seen.some((e) => e.type === 'StreamInstallProgress')).toBe(true);
  });

  it('replaces an existing install whole (an update): nothing of the old local/ and no backup is left', async () => {
    const net = new MemoryNetwork();
    await seed(net, 221, 'rar5_multiple_files.rar');
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha', { installed: true, files: { 'local/old.txt': 'the previous install' } });
    const r = await startMemoryNode({ net, port: 222, peers: [221], gameDir });
    await waitFor(() => (r.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'a source');
    const seen = events(r);
    await r.runtime.execute({ type: 'StreamInstallGame', id: 'alpha' });
    expect((await ended(seen)).type).toBe('InstallGameFinished');
    const expected = await tempDir();
    await new RarUnpacker({ checkFreeSpace: false }).extract([rarFixture('rar5_multiple_files.rar')], expected);
    expect(await tree(path.join(gameDir, 'alpha', 'local'))).toEqual(await tree(expected));
    expect(await fs.readdir(path.join(gameDir, 'alpha'))).toEqual(['local']);
  });

  it('an archive the preflight refuses fails with its code; nothing is left', async () => {
    const net = new MemoryNetwork();
    await seed(net, 211, 'rar5_symlink.rar');
    const r = await startMemoryNode({ net, port: 212, peers: [211] });
    await waitFor(() => (r.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'a source');
    const seen = events(r);
    await r.runtime.execute({ type: 'StreamInstallGame', id: 'alpha' });
    const end = await ended(seen);
    expect(end).toMatchObject({ type: 'InstallGameFailed', error: { code: 'archive_unsafe_entry' } });
    await expect(fs.access(path.join(r.gameDir, 'alpha'))).rejects.toThrow();
  });

  it('a multi-volume set streams as one archive; the game then knows its version, also after a restart, without being downloaded', async () => {
    const net = new MemoryNetwork();
    const senderDir = await tempDir();
    const parts: Record<string, Buffer> = {};
    for (let n = 1; n <= 8; n++) parts[`alpha.part0${n}.rar`] = await fs.readFile(rarFixture(`rar5_multiarchive.part0${n}.rar`));
    await makeGame(senderDir, 'alpha', { version: '20240101', files: parts });
    await startMemoryNode({ net, port: 241, gameDir: senderDir });
    const gameDir = await tempDir();
    const stateDir = await tempDir();
    const r = await startMemoryNode({ net, port: 242, peers: [241], gameDir, stateDir });
    await waitFor(() => (r.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'a source');
    const seen = events(r);
    await r.runtime.execute({ type: 'StreamInstallGame', id: 'alpha' });
    expect((await ended(seen)).type).toBe('InstallGameFinished');
    const bin = 'home/antek/temp/build/unrar5/libarchive/bin';
    const local = path.join(gameDir, 'alpha', 'local');
    // libarchive's CRC32s for the two files of the set
    expect(crc32(await fs.readFile(path.join(local, bin, 'bsdcat_test')))).toBe(0x35277473);
    expect(crc32(await fs.readFile(path.join(local, bin, 'bsdtar_test')))).toBe(0xe59665f8);
    const installed = await waitFor(() => {
      const g = r.runtime.game('alpha');
      return g.operation === null && g.version !== null ? g : undefined;
    });
    expect(installed).toMatchObject({ installed: true, downloaded: false, version: '20240101' });
    await r.runtime.close();

    // restarted, alone: the version comes from the state dir, and the game is still not "downloaded"
    const again = await startTestRuntime({ gameDir, stateDir, library: { watch: false } });
    expect(again.runtime.game('alpha')).toMatchObject({ installed: true, downloaded: false, version: '20240101' });
    await again.runtime.close();

    // restarted beside a peer with a newer version: an update is offered
    const newerDir = await tempDir();
    await makeGame(newerDir, 'alpha', { version: '20250101', files: { 'alpha.eti': await fs.readFile(rarFixture('rar5_stored.rar')) } });
    await startMemoryNode({ net, port: 243, gameDir: newerDir });
    const back = await startMemoryNode({ net, port: 244, peers: [243], gameDir, stateDir });
    const offered = await waitFor(
      () => {
        const g = back.runtime.game('alpha');
        return g.latestVersion === '20250101' ? g : undefined;
      },
      3_000,
      'the newer version',
    );
    expect(offered.version).toBe('20240101');
    expect(hasUpdate(offered)).toBe(true);

    // uninstalled: the record goes with local/
    await back.runtime.execute({ type: 'UninstallGame', id: 'alpha' });
    const gone = await waitFor(() => {
      const g = back.runtime.game('alpha');
      return g.operation === null && !g.installed ? g : undefined;
    });
    expect(gone.version).toBeNull();
    await expect(fs.access(path.join(stateDir, 'games', 'alpha', STREAMED_VERSION_FILE))).rejects.toThrow();
  });
});
