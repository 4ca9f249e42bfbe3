// Downloads onto a real small disk (scenario K2): the receiver's game dir is a
// 3 MiB tmpfs and the game has 5 MiB. Asked to download, the node refuses
// before a byte is fetched (409 not_enough_space, both figures, from the real
// statfs). With the node's check blinded, the download runs into the full
// disk and fails at once with disk_full: not after retrying every chunk,
// no version.ini committed, local/ untouched. Needs root to mount.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PeerEvent } from '../../../shared/events.js';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { startMemoryNode } from '../../helpers/peers.js';
import { smallDisk } from '../../helpers/small-disk.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';

const MIB = 1024 * 1024;

async function setUp(ctx: Parameters<typeof smallDisk>[0], blind: boolean) {
  const disk = await smallDisk(ctx);
  const net = new MemoryNetwork();
  const seedDir = await tempDir();
  await makeGame(seedDir, 'alpha', { version: '20240101', files: { 'alpha.eti': randomBytes(5 * MIB) } });
  const port = blind ? 331 : 321;
  await startMemoryNode({ net, port, gameDir: seedDir });
  await makeGame(disk, 'alpha', { installed: true, files: { 'local/game.exe': 'the installed version' } });
  const r = await startMemoryNode({
    net,
    port: port + 1,
    peers: [port],
    gameDir: disk,
    ...(blind ? { diskSpace: { free: async () => Number.MAX_SAFE_INTEGER } } : {}),
  });
  await waitFor(() => (r.runtime.game('alpha').peers === 1 ? true : undefined), 3_000, 'a source');
  return { disk, r };
}

describe('a download onto a small disk', () => {
  it('is refused before a byte is fetched, naming both figures', async (ctx) => {
    const { disk, r } = await setUp(ctx, false);
    const refused = await r.runtime.execute({ type: 'GetGame', id: 'alpha' }).then(
      () => null,
      (err: unknown) => err as { code: string; message: string },
    );
    expect(refused?.code).toBe('not_enough_space');
    expect(refused?.message).toMatch(/^not enough free space to download "alpha": it needs 5\.0 MiB, the disk has [\d.]+ (KiB|MiB) free$/);
    expect((await fs.readdir(path.join(disk, 'alpha'))).sort()).toEqual(['local']);
    expect(r.runtime.listOperations()).toEqual([]);
  });

  it('that runs out of space anyway fails at once with disk_full; nothing is committed, local/ stays', async (ctx) => {
    const { disk, r } = await setUp(ctx, true);
    const seen: PeerEvent[] = [];
    r.runtime.subscribe((e) => seen.push(e));
    await r.runtime.execute({ type: 'GetGame', id: 'alpha' });
    const failed = await waitFor(() => seen.find((e) => e.type === 'DownloadGameFilesFailed'), 20_000, 'the download to fail');
    expect(failed).toMatchObject({ error: { code: 'disk_full' } });
    await waitFor(() => (r.runtime.game('alpha').operation === null ? true : undefined));
    const game = r.runtime.game('alpha');
    expect(game).toMatchObject({ downloaded: false, installed: true, lastError: { code: 'disk_full' } });
    expect(game.lastError?.message).toMatch(/disk filled up/);
    await expect(fs.access(path.join(disk, 'alpha', 'version.ini'))).rejects.toThrow();
    expect(await fs.readFile(path.join(disk, 'alpha', 'local', 'game.exe'), 'utf8')).toBe('the installed version');
    expect(seen.some((e) => e.type === 'InstallGameBegin')).toBe(false);
  });
});
