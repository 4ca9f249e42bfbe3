// A runtime and its Fastify app on temp folders, torn down after the test.
import { onTestFinished } from 'vitest';
import { buildApp } from '../../server/app.js';
import { Catalog, type CatalogEntry } from '../../server/runtime/library/catalog.js';
import { silentLogger } from '../../server/runtime/logger.js';
import { PeerRuntime, type RuntimeOptions } from '../../server/runtime/runtime.js';
import { tempDir } from './temp-dir.js';

export const testEntry = (id: string, extra: Partial<CatalogEntry> = {}): CatalogEntry => ({
  id,
  name: id.toUpperCase(),
  description: `${id} game`,
  size: 1000,
  eti_version: '20240101',
  ...extra,
});

export const testCatalog = new Catalog([testEntry('alpha'), testEntry('bravo', { genre: 'Racing', max_players: 8 }), testEntry('charlie')]);

export async function startTestRuntime(opts: Partial<RuntimeOptions> = {}) {
  const gameDir = opts.gameDir ?? (await tempDir());
  const stateDir = opts.stateDir ?? (await tempDir());
  const runtime = await PeerRuntime.start({
    gameDir,
    stateDir,
    catalog: testCatalog,
    name: 'test-node',
    uploadLimit: 0,
    downloadLimit: 0,
    logger: silentLogger,
    library: { debounceMs: 20 },
    network: false,
    ...opts,
  });
  onTestFinished(() => runtime.close());
  return { runtime, gameDir, stateDir };
}

export async function startTestApp(opts: Partial<RuntimeOptions> & { token?: string | null; webRoot?: string } = {}) {
  const { token, webRoot, ...runtimeOpts } = opts;
  const started = await startTestRuntime(runtimeOpts);
  const app = await buildApp({ runtime: started.runtime, token: token ?? null, ...(webRoot ? { webRoot } : {}) });
  onTestFinished(() => app.close());
  return { ...started, app };
}
