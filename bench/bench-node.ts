// What benchmarks that run real node processes share: the game they move, waiting
// on observable state, and the CPU a process has used (from /proc).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** the catalog id every benchmark game is served as */
export const BENCH_GAME = 'openttd';
const MiB = 1024 ** 2;

/** A served game of `size` bytes: random (or sparse zeros) in `<games>/openttd/openttd.eti`, with its version.ini. */
export async function makeSourceGame(games: string, size: number, sparse: boolean): Promise<void> {
  const root = path.join(games, BENCH_GAME);
  await fs.mkdir(root, { recursive: true });
  const file = path.join(root, `${BENCH_GAME}.eti`);
  const h = await fs.open(file, 'w');
  if (sparse) {
    await h.truncate(size);
  } else {
    const block = randomBytes(16 * MiB);
    for (let off = 0; off < size; off += block.length) await h.write(block, 0, Math.min(block.length, size - off));
  }
  await h.close();
  await fs.writeFile(path.join(root, 'version.ini'), '20240601\n');
}

/** Poll `fn` every `everyMs` until it returns a value; rejects after `timeoutMs`. */
export async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name, which is in parentheses and may hold spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Busy and total CPU seconds of the whole machine so far (every process, not only ours), from /proc/stat. */
export async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  const total = t.reduce((a, b) => a + b, 0);
  const idle = (t[3] ?? 0) + (t[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}
