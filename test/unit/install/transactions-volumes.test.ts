// Multi-volume sets in a game root install as one archive through the
// runtime's install service and the real unpacker (scenario I9): the eight
// volumes of rar5_multiarchive named `<id>.partNN.rar`, and a RAR 4 set named
// `<id>.rar` + `<id>.r00` …; a set with a volume missing fails cleanly with the
// volume named, leaving no local/, no staging and no intent.
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { intentPath } from '../../../server/runtime/install/intent-journal.js';
import { Catalog } from '../../../server/runtime/library/catalog.js';
import type { PeerRuntime } from '../../../server/runtime/runtime.js';
import { oldStyleVolumes, rarFixture } from '../../helpers/fixtures.js';
import { startTestRuntime, testEntry } from '../../helpers/runtime.js';
import { exists, tempDir, waitFor } from '../../helpers/temp-dir.js';

const BIN = 'home/antek/temp/build/unrar5/libarchive/bin';

async function crcs(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const rel of (await fs.readdir(dir, { recursive: true })) as string[]) {
    const file = path.join(dir, rel);
    if ((await fs.lstat(file)).isFile()) out[rel.split(path.sep).join('/')] = crc32(await fs.readFile(file));
  }
  return out;
}

async function install(runtime: PeerRuntime, id: string): Promise<void> {
  await runtime.execute({ type: 'InstallGame', id });
  await waitFor(() => (runtime.game(id).operation === null ? true : undefined), 60_000, `install of ${id}`);
}

describe('multi-volume sets in a game root', () => {
  it('install as one archive (partNN and old-style names); a set missing a volume fails cleanly', { timeout: 60_000 }, async () => {
    const gameDir = await tempDir();
    const roots = Object.fromEntries(['parts', 'oldstyle', 'holed'].map((id) => [id, path.join(gameDir, id)]));
    for (const root of Object.values(roots)) {
      await fs.mkdir(root);
      await fs.writeFile(path.join(root, 'version.ini'), '1\n');
    }
    for (let n = 1; n <= 8; n++) {
      const part = `part${String(n).padStart(2, '0')}`;
      await fs.copyFile(rarFixture(`rar5_multiarchive.${part}.rar`), path.join(roots['parts']!, `parts.${part}.rar`));
      if (n !== 6) await fs.copyFile(rarFixture(`rar5_multiarchive.${part}.rar`), path.join(roots['holed']!, `holed.${part}.rar`));
    }
    const rar4 = [1, 2, 3].map((n) => rarFixture(`rar_multivolume_single_file.part${n}.rar`));
    oldStyleVolumes(rar4, roots['oldstyle']!, 'oldstyle');

    const { runtime, stateDir } = await startTestRuntime({
      gameDir,
      catalog: new Catalog(Object.keys(roots).map((id) => testEntry(id))),
      library: { watch: false },
    });
    for (const id of Object.keys(roots)) await install(runtime, id);

    expect(runtime.game('parts').lastError).toBeNull();
    expect(await crcs(path.join(roots['parts']!, 'local'))).toEqual({
      [`${BIN}/bsdcat_test`]: 0x35277473,
      [`${BIN}/bsdtar_test`]: 0xe59665f8,
    });

    expect(runtime.game('oldstyle').lastError).toBeNull();
    const html = await crcs(path.join(roots['oldstyle']!, 'local'));
    expect(Object.keys(html)).toEqual(['LibarchiveAddingTest.html']);
    expect((await fs.stat(path.join(roots['oldstyle']!, 'local', 'LibarchiveAddingTest.html'))).size).toBe(20_111);

    const holed = runtime.game('holed');
    expect(holed.installed).toBe(false);
    expect(holed.lastError?.code).toBe('archive_volume_missing');
    expect(holed.lastError?.message).toContain('"holed.part06.rar" is missing');
    for (const leftover of ['local', '.local.installing', '.local.backup']) {
      expect(await exists(path.join(roots['holed']!, leftover)), leftover).toBe(false);
    }
    expect(await exists(intentPath(stateDir, 'holed'))).toBe(false);
  });
});
