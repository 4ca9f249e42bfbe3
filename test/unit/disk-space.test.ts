// Free space checked before work starts (scenario K1), on a "small disk" made
// by injecting how free space is measured: a download, a streamed install and
// an install that do not fit are refused with 409 not_enough_space and a
// message naming both figures, before anything is written; what a resumed
// download already has counts; the game object and the settings show it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Game, Settings } from '../../shared/api.js';
import { buildApp } from '../../server/app.js';
import { NotEnoughSpaceError, type DiskSpace } from '../../server/runtime/disk-space.js';
import { MemoryNetwork } from '../../server/runtime/transport/memory-transport.js';
import { buildRar5, rarFixture } from '../helpers/fixtures.js';
import { startMemoryNode } from '../helpers/peers.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { exists, makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';

const KIB = 1024;
/** A disk with `bytes` free, whatever the real one has. */
const disk = (bytes: number): DiskSpace => ({ free: async () => bytes });

async function seeded(net: MemoryNetwork, port: number, payload: Buffer) {
  const gameDir = await tempDir();
  await makeGame(gameDir, 'alpha', { version: '20240101', files: { 'alpha.eti': payload } });
  return startMemoryNode({ net, port, gameDir });
}

async function withApp(node: Awaited<ReturnType<typeof startMemoryNode>>) {
  const app = await buildApp({ runtime: node.runtime, token: null });
  onTestFinished(() => app.close());
  return app;
}

const sourced = (node: Awaited<ReturnType<typeof startMemoryNode>>) =>
  waitFor(() => (node.runtime.game('alpha').peers === 1 ? true : undefined), 3_000, 'a source');

describe('free space is checked before work starts', () => {
  it('a download that does not fit is refused (409, both figures) before anything is written; the game and settings say so', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(300 * KIB);
    await seeded(net, 301, payload);
    const r = await startMemoryNode({ net, port: 302, peers: [301], diskSpace: disk(100 * KIB) });
    await sourced(r);
    const app = await withApp(r);

    const games = (await app.inject('/api/games')).json() as Game[];
    const alpha = games.find((g) => g.id === 'alpha')!;
    expect(alpha.noSpace).toMatchObject({ action: 'download', freeBytes: 100 * KIB });
    expect(alpha.noSpace!.neededBytes).toBeGreaterThanOrEqual(300 * KIB);
    expect(((await app.inject('/api/settings')).json() as Settings).freeBytes).toBe(100 * KIB);

    for (const body of [{}, { stream: true }]) {
      const res = await app.inject({ method: 'POST', url: '/api/games/alpha/download', payload: body });
      expect(res.statusCode, JSON.stringify(body)).toBe(409);
      const error = (res.json() as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('not_enough_space');
      expect(error.message).toBe(
        `not enough free space to ${body.stream ? 'install' : 'download'} "alpha": it needs 300 KiB, the disk has 100 KiB free`,
      );
    }
    expect(await fs.readdir(r.gameDir)).toEqual([]);
    expect(r.runtime.listOperations()).toEqual([]);
  });

  it('what a resumed download already has on disk counts: the same game fits when its archive is there', async () => {
    const net = new MemoryNetwork();
    const payload = randomBytes(300 * KIB);
    await seeded(net, 311, payload);
    const gameDir = await tempDir();
    await makeGame(gameDir, 'alpha', { files: { 'alpha.eti': payload } }); // all chunks there, no version.ini yet
    const r = await startMemoryNode({ net, port: 312, peers: [311], gameDir, diskSpace: disk(100 * KIB) });
    await sourced(r);
    expect(r.runtime.game('alpha').noSpace).toBeNull();
    await r.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    const done = await waitFor(() => {
      const g = r.runtime.game('alpha');
      return g.operation === null && (g.downloaded || g.lastError) ? g : undefined;
    }, 10_000);
    expect(done).toMatchObject({ downloaded: true, lastError: null });
  });

  it('an install that does not fit is refused (409, both figures) before staging is made', async () => {
    const gameDir = await tempDir();
    const archive = buildRar5([{ name: 'big.bin', data: Buffer.alloc(200 * KIB, 7) }]);
    const root = await makeGame(gameDir, 'alpha', { version: '1', files: { 'alpha.eti': archive } });
    const { runtime } = await startTestRuntime({ gameDir, library: { watch: false }, diskSpace: disk(150 * KIB) });
    const app = await buildApp({ runtime, token: null });
    onTestFinished(() => app.close());
    const res = await app.inject({ method: 'POST', url: '/api/games/alpha/install' });
    expect(res.statusCode).toBe(409);
    const error = (res.json() as { error: { code: string; message: string } }).error;
    expect(error).toMatchObject({ code: 'not_enough_space' });
    expect(error.message).toBe('not enough free space to install "alpha": it needs 200 KiB, the disk has 150 KiB free');
    expect(await fs.readdir(root)).toEqual(['alpha.eti', 'version.ini']);
    expect(runtime.game('alpha')).toMatchObject({ installed: false, operation: null });

    // with room, the same install goes through (the refusal was the space, not the archive)
    const roomy = await startTestRuntime({ gameDir, library: { watch: false }, diskSpace: disk(250 * KIB) });
    await runtime.close();
    await roomy.runtime.execute({ type: 'InstallGame', id: 'alpha' });
    await waitFor(() => (roomy.runtime.game('alpha').installed ? true : undefined), 10_000);
    expect((await fs.stat(path.join(root, 'local', 'big.bin'))).size).toBe(200 * KIB);
  });

  it('a multi-volume set counts its extracted size once', async () => {
    const gameDir = await tempDir();
    const files: Record<string, Buffer> = {};
    for (let n = 1; n <= 8; n++) files[`alpha.part0${n}.rar`] = await fs.readFile(rarFixture(`rar5_multiarchive.part0${n}.rar`));
    await makeGame(gameDir, 'alpha', { version: '1', files });
    const { runtime } = await startTestRuntime({ gameDir, library: { watch: false }, diskSpace: disk(500_000) });
    const refused = await runtime.execute({ type: 'InstallGame', id: 'alpha' }).then(
      () => null,
      (err: unknown) => err as NotEnoughSpaceError,
    );
    expect(refused).toBeInstanceOf(NotEnoughSpaceError);
    // 144,608 + 365,672 bytes extracted (libarchive's sizes), not the sum of eight volumes' worth
    expect(refused!.neededBytes).toBe(144_608 + 365_672);
    expect(refused!.message).toContain('needs 498 KiB, the disk has 488 KiB free');
    expect(await exists(path.join(gameDir, 'alpha', '.local.installing'))).toBe(false);
  });
});
