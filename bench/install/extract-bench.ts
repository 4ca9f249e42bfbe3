// Extraction throughput of the RarUnpacker beside `cp` of the same bytes in
// the same run (so the ratio means something on any disk), and the memory it
// takes: peak process RSS sampled during extraction and the process's max RSS.
// Besides the fixtures, a generated multi-GB archive of stored entries (as
// many large games ship), checked against our header reader before and file
// by file (size, CRC32) after extraction.
// Run alone (`node dist/bench/install/extract-bench.js`) or via runExtractBench().
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { openFileSource, scanRarArchive } from '../../server/runtime/extract/rar-headers.js';
import { RarUnpacker } from '../../server/runtime/extract/rar-unpacker.js';
import { formatTable, machine, median, type BenchResult } from '../bench-util.js';
import { writeStoredRar5 } from './stored-rar.js';

const run = promisify(execFile);

interface ArchiveMeasure {
  archive: string;
  /** bytes written per extraction */
  bytes: number;
  /** median wall time of one extract() call, worker start included */
  extractMs: number;
  /** median wall time of `cp -r` of the extracted files */
  cpMs: number;
  /** largest process RSS growth seen while extracting, MiB */
  peakRssGrowthMiB: number;
}

/** The archives measured: the largest expansion (PPMd, 176 KB → 230 MiB) and mostly-stored data (1 MiB). */
export const EXTRACT_BENCH_ARCHIVES = ['rar_ppmd_lzss_conversion.rar', 'rar_binary_data.rar'];

/** Size of the generated stored archive: LANSPREAD_BENCH_STORED_GIB, default 2 GiB, in 8 files. */
const STORED_GIB = Number(process.env['LANSPREAD_BENCH_STORED_GIB'] ?? 2);
const STORED_FILES = 8;

export async function runExtractBench(options: { runs?: number; fixturesDir?: string } = {}): Promise<BenchResult[]> {
  const runs = options.runs ?? 3;
  const fixtures = options.fixturesDir ?? defaultFixturesDir();
  const scratch = mkdtempSync(path.join(tmpdir(), 'lanspread-extract-bench-'));
  const unpacker = new RarUnpacker();
  try {
    // the first call pays for compiling the WASM module once per process
    await unpacker.extract([path.join(fixtures, 'rar5_stored.rar')], mkdtempSync(path.join(scratch, 'warm-')));
    const results: BenchResult[] = [];
    const stored = generateStored(scratch);
    const archives = [...EXTRACT_BENCH_ARCHIVES.map((name) => path.join(fixtures, name)), stored.archive];
    for (const archive of archives) {
      const check = archive === stored.archive ? stored.check : undefined;
      const m = await measureArchive(unpacker, archive, scratch, runs, check);
      const mib = m.bytes / 2 ** 20;
      const cpRate = mib / (m.cpMs / 1000);
      const extractRate = mib / (m.extractMs / 1000);
      results.push(
        { name: `cp -r of the same ${mib.toFixed(1)} MiB (baseline)`, value: cpRate, unit: 'MiB/s', note: `median of ${runs}` },
        {
          name: `extract ${m.archive} → ${mib.toFixed(1)} MiB`,
          value: extractRate,
          unit: 'MiB/s',
          ratio: extractRate / cpRate,
          note: `median of ${runs}, ${m.extractMs.toFixed(0)} ms per call, worker start included`,
        },
        {
          name: `peak RSS growth while extracting ${m.archive}`,
          value: m.peakRssGrowthMiB,
          unit: 'MiB',
          note: 'process RSS (main + worker) sampled every 5 ms',
        },
      );
    }
    results.push({
      name: 'process max RSS over the whole bench',
      value: process.resourceUsage().maxRSS / 1024,
      unit: 'MiB',
      note: 'main thread and worker together',
    });
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The stored archive, and a check of what it extracts to: the generator's
 * sizes and CRC32s must be what our header reader reads back, and what lands
 * on disk must match them file by file.
 */
function generateStored(scratch: string): { archive: string; check: (dest: string) => Promise<void> } {
  const size = Math.round((STORED_GIB * 2 ** 30) / STORED_FILES);
  const entries = Array.from({ length: STORED_FILES }, (_, i) => ({ name: `data/pak${i}.bin`, size }));
  const archive = path.join(scratch, `stored-${STORED_GIB}gib.rar`);
  const written = writeStoredRar5(archive, entries);
  const source = openFileSource(archive);
  try {
    const scan = scanRarArchive(source);
    const read = scan.entries.map((e) => `${e.name}:${e.unpackedSize}:${e.crc32}`);
    const made = entries.map((e) => `${e.name}:${e.size}:${written.crc32.get(e.name)}`);
    if (read.join() !== made.join()) throw new Error('the header reader does not read back what the generator wrote');
  } finally {
    source.close();
  }
  return {
    archive,
    check: async (dest) => {
      for (const e of entries) {
        const file = path.join(dest, e.name);
        if (statSync(file).size !== e.size) throw new Error(`${e.name}: wrong size after extraction`);
        let crc = 0;
        for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) crc = crc32(piece as Buffer, crc);
        if (crc >>> 0 !== written.crc32.get(e.name)) throw new Error(`${e.name}: wrong CRC32 after extraction`);
      }
    },
  };
}

async function measureArchive(
  unpacker: RarUnpacker,
  archive: string,
  scratch: string,
  runs: number,
  check?: (dest: string) => Promise<void>,
): Promise<ArchiveMeasure> {
  const extractTimes: number[] = [];
  const cpTimes: number[] = [];
  let bytes = 0;
  let peakGrowth = 0;
  for (let i = 0; i < runs; i++) {
    const dest = mkdtempSync(path.join(scratch, 'x-'));
    const base = process.memoryUsage.rss();
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    const started = performance.now();
    const result = await unpacker.extract([archive], dest);
    extractTimes.push(performance.now() - started);
    clearInterval(sampler);
    peakGrowth = Math.max(peakGrowth, (peak - base) / 2 ** 20);
    bytes = result.bytes;
    if (i === 0) await check?.(dest);

    // the same bytes, copied by cp into the same kind of fresh folder
    const copy = mkdtempSync(path.join(scratch, 'cp-'));
    const cpStarted = performance.now();
    await run('cp', ['-r', `${dest}/.`, copy]);
    cpTimes.push(performance.now() - cpStarted);
    if (dirBytes(copy) !== bytes) throw new Error('cp copied a different number of bytes');
    rmSync(dest, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
  return {
    archive: path.basename(archive),
    bytes,
    extractMs: median(extractTimes),
    cpMs: median(cpTimes),
    peakRssGrowthMiB: peakGrowth,
  };
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(full) : statSync(full).size;
  }
  return total;
}

/** test/fixtures/rar of the checkout (from bench/ or dist/bench/), or LANSPREAD_RAR_FIXTURES. */
function defaultFixturesDir(): string {
  const fromEnv = process.env['LANSPREAD_RAR_FIXTURES'];
  if (fromEnv) return fromEnv;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'test', 'fixtures', 'rar');
  }
  throw new Error('extract-bench: cannot find the checkout (set LANSPREAD_RAR_FIXTURES)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`${machine()}\n`);
  console.log(formatTable('Extraction', await runExtractBench()));
}
