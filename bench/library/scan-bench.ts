// Scan of a large library (2,000 game roots), cold (no index) and warm (with
// the index), beside a baseline measured in the same run: a plain recursive
// walk that stats every file, i.e. the least work a scan without an index does.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Catalog, type CatalogEntry } from '../../server/runtime/library/catalog.js';
import { Library } from '../../server/runtime/library/library.js';
import { silentLogger } from '../../server/runtime/logger.js';
import { type BenchResult, median, timeIt } from '../bench-util.js';

const GAMES = 2_000;
const FILES_PER_GAME = 6;

async function makeLibrary(gameDir: string): Promise<Catalog> {
  const entries: CatalogEntry[] = [];
  for (let i = 0; i < GAMES; i++) {
    const id = `game-${String(i).padStart(4, '0')}`;
    entries.push({ id, name: id, description: '', size: 1, eti_version: '20240101' });
    const root = path.join(gameDir, id);
    await fs.mkdir(path.join(root, 'data'), { recursive: true });
    for (let f = 0; f < FILES_PER_GAME; f++) await fs.writeFile(path.join(root, 'data', `part${f}.eti`), 'x'.repeat(f * 10));
    await fs.writeFile(path.join(root, 'version.ini'), '20240101\n');
    if (i % 3 === 0) await fs.mkdir(path.join(root, 'local'));
  }
  return new Catalog(entries);
}

async function naiveWalk(dir: string): Promise<number> {
  let files = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      await fs.lstat(path.join(entry.parentPath, entry.name));
      files++;
    }
  }
  return files;
}

async function scanOnce(gameDir: string, stateDir: string, catalog: Catalog): Promise<number> {
  const library = new Library({ gameDir, stateDir, catalog, logger: silentLogger, onChange: () => undefined, watch: false });
  await library.start();
  const n = library.games().length;
  await library.stop();
  return n;
}

export async function runScanBench(rounds = 5): Promise<BenchResult[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-bench-scan-'));
  try {
    const gameDir = path.join(work, 'games');
    await fs.mkdir(gameDir);
    const catalog = await makeLibrary(gameDir);
    const baseline: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    for (let r = 0; r < rounds; r++) {
      baseline.push((await timeIt(() => naiveWalk(gameDir))).ms);
      const stateDir = path.join(work, `state-${r}`);
      await fs.mkdir(stateDir);
      const c = await timeIt(() => scanOnce(gameDir, stateDir, catalog));
      if (c.value !== GAMES) throw new Error(`cold scan found ${c.value} games, expected ${GAMES}`);
      cold.push(c.ms);
      const w = await timeIt(() => scanOnce(gameDir, stateDir, catalog));
      if (w.value !== GAMES) throw new Error(`warm scan found ${w.value} games, expected ${GAMES}`);
      warm.push(w.ms);
    }
    const base = median(baseline);
    return [
      { name: `baseline: recursive walk + lstat of ${GAMES} roots`, value: base, unit: 'ms', ratio: 1 },
      { name: `scan of ${GAMES} game roots, cold (no index)`, value: median(cold), unit: 'ms', ratio: median(cold) / base },
      { name: `scan of ${GAMES} game roots, warm (index)`, value: median(warm), unit: 'ms', ratio: median(warm) / base },
    ];
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
