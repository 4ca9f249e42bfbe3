// Whole-game downloads between real node processes over QUIC on loopback:
// 1 GiB from one source and from two, beside the transport's own single-stream
// figure and Node's TLS/TCP, both measured in the same run; the CPU time all
// the node processes used (how busy the machine was); and the receiver's peak
// RSS while it downloads a 4 GiB game (must stay flat).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../bench-util.js';
import { BENCH_GAME as ID, cpuSeconds, makeSourceGame, until } from '../bench-node.js';
import { runTransportCases } from '../transport/transport-bench.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'server', 'cli', 'main.js');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

interface Proc {
  child: ChildProcess;
  url: string;
  quicPort: number;
}

async function serve(games: string, state: string, peers: number[], env: Record<string, string> = {}): Promise<Proc> {
  const args = [
    '--max-semi-space-size=2', // as the lanspread bin and npm start run it
    CLI,
    'serve',
    '--games',
    games,
    '--state',
    state,
    '--http',
    '127.0.0.1:0',
    '--quic-port',
    '0',
    '--no-mdns',
    '--log-level',
    'warn',
  ];
  for (const p of peers) args.push('--peer', `127.0.0.1:${p}`);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LANSPREAD_PING_INTERVAL_MS: '500', ...env },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /dashboard: (http:\/\/\S+?\/)/.exec(out)?.[1];
      const quic = /QUIC port (\d+)/.exec(out)?.[1];
      if (url && quic) resolve({ child, url, quicPort: Number(quic) });
    });
    child.once('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
}

const api = async <T>(p: Proc, route: string, method = 'GET', body?: object): Promise<T> => {
  const res = await fetch(
    new URL(route, p.url),
    method === 'GET' ? {} : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) },
  );
  return (await res.json()) as T;
};

/** Peak resident set of a process so far (VmHWM), in bytes. */
async function peakRss(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

interface Timed {
  seconds: number;
  rss: number;
  /** the receiver's event-loop delay since its start (ms) */
  loop: { p99Ms: number; maxMs: number };
  /** CPU seconds of every node process (sources and receiver) during the download */
  cpu: number;
}

/** Where a source keeps its state (and chunk hashes) across runs: it hashes its files once (warm-up), not in every timed run. */
export function sourceStateDir(games: string, chunkBytes?: string): string {
  return `${games}.state${chunkBytes ?? ''}`;
}

/** One download of the game from `sources` (games folders): seconds, the receiver's peak RSS, and CPU used. */
export async function timedDownload(
  work: string,
  sourceGames: string[],
  sourceEnv: Record<string, string> = {},
  receiverEnv: Record<string, string> = {},
): Promise<Timed> {
  const procs: Proc[] = [];
  const receiverGames = await fs.mkdtemp(path.join(work, 'recv-'));
  try {
    for (const g of sourceGames) procs.push(await serve(g, sourceStateDir(g, sourceEnv.LANSPREAD_CHUNK_BYTES), [], sourceEnv));
    const r = await serve(
      receiverGames,
      path.join(work, `state-recv-${Date.now()}`),
      procs.map((p) => p.quicPort),
      receiverEnv,
    );
    procs.push(r);
    await until(
      async () => ((await api<{ peers: number }>(r, `/api/games/${ID}`)).peers === sourceGames.length ? true : undefined),
      30_000,
    );
    const cpu0 = await Promise.all(procs.map((p) => cpuSeconds(p.child.pid!)));
    const t0 = performance.now();
    // the payload is random bytes, not a RAR archive: download only, no automatic install
    await api(r, `/api/games/${ID}/download`, 'POST', { install: false });
    await until(async () => {
      const g = await api<{ downloaded: boolean; operation: unknown; lastError: unknown }>(r, `/api/games/${ID}`);
      if (g.lastError) throw new Error(`download failed: ${JSON.stringify(g.lastError)}`);
      return g.downloaded && g.operation === null ? true : undefined;
    }, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = await Promise.all(procs.map((p) => cpuSeconds(p.child.pid!)));
    const rss = await peakRss(r.child.pid!);
    const { eventLoopDelay: loop } = await api<{ eventLoopDelay: Timed['loop'] }>(r, '/api/stats');
    return { seconds, rss, loop, cpu: cpu1.reduce((sum, c, i) => sum + c - cpu0[i]!, 0) };
  } finally {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => new Promise((res) => (p.child.exitCode !== null ? res(null) : p.child.once('exit', res)))));
    await fs.rm(receiverGames, { recursive: true, force: true });
  }
}

export async function runDownloadBench(): Promise<BenchResult[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-bench-dl-'));
  try {
    const size = Number(process.env.BENCH_DOWNLOAD_BYTES ?? GiB);
    const srcA = path.join(work, 'src-a');
    const srcB = path.join(work, 'src-b');
    await makeSourceGame(srcA, size, false);
    await fs.cp(srcA, srcB, { recursive: true });
    // the baselines: the transport alone (one stream) and Node's TLS/TCP, same bytes, same run
    const [tls, quic] = await runTransportCases({ bytes: size, parallel: 1 });
    // Sources hash their files on the first GetGame; warm that cache so the figures measure transfer.
    await timedDownload(work, [srcA]);
    await timedDownload(work, [srcB]);
    const one = await timedDownload(work, [srcA]);
    const two = await timedDownload(work, [srcA, srcB]);
    const mibs = (s: number) => size / MiB / s;
    const cores = os.cpus().length;
    const note = (t: Timed, processes: number) =>
      `${processes} processes used ${(t.cpu / (size / GiB)).toFixed(1)} CPU s/GiB, ` +
      `${((100 * t.cpu) / (t.seconds * cores)).toFixed(0)}% of ${cores} cores; receiver peak RSS ${(t.rss / MiB).toFixed(0)} MiB, ` +
      `event-loop delay p99 ${t.loop.p99Ms} ms (goal < 50), max ${t.loop.maxMs} ms`;
    const results: BenchResult[] = [
      {
        name: `baseline: ${size / MiB} MiB over Node TLS/TCP, 1 connection, two processes`,
        value: tls!.mibPerSecond,
        unit: 'MiB/s',
        ratio: 1,
        note: `${tls!.cpuSecondsPerGiB.toFixed(1)} CPU s/GiB both ends`,
      },
      {
        name: `${size / MiB} MiB over the QUIC transport, 1 stream, two processes`,
        value: quic!.mibPerSecond,
        unit: 'MiB/s',
        ratio: quic!.mibPerSecond / tls!.mibPerSecond,
        note: `${quic!.cpuSecondsPerGiB.toFixed(1)} CPU s/GiB both ends (goal ≤ 6), ${((100 * quic!.cpuSecondsPerGiB * (size / GiB)) / (quic!.seconds * cores)).toFixed(0)}% of ${cores} cores; goal ≥ 0.4× TLS`,
      },
      {
        name: `download of a ${size / MiB} MiB game from 1 source, click to done`,
        value: mibs(one.seconds),
        unit: 'MiB/s',
        ratio: mibs(one.seconds) / tls!.mibPerSecond,
        note: `${note(one, 2)}; goal ≥ 0.3× TLS`,
      },
      {
        name: `download of a ${size / MiB} MiB game from 2 sources, click to done`,
        value: mibs(two.seconds),
        unit: 'MiB/s',
        ratio: mibs(two.seconds) / tls!.mibPerSecond,
        note: `${(one.seconds / two.seconds).toFixed(2)}× one source (goal ≥ 1.0); ${note(two, 3)}`,
      },
    ];
    await fs.rm(srcB, { recursive: true, force: true });
    if (process.env.BENCH_SKIP_4G !== '1') {
      const big = path.join(work, 'src-big');
      await makeSourceGame(big, 4 * GiB, true);
      await timedDownload(work, [big]); // hash once
      const r4 = await timedDownload(work, [big]);
      results.push({
        name: 'receiver peak RSS, 4 GiB game from 1 source',
        value: r4.rss / MiB,
        unit: 'MiB',
        note: `${(4096 / r4.seconds).toFixed(0)} MiB/s; must stay under 200 MiB; event-loop delay p99 ${r4.loop.p99Ms} ms`,
      });
    }
    return results;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * The same download with the source serving chunks of the size each file's
 * length calls for (the default: 2 MiB for a 512 MiB file), and of fixed
 * sizes: 16 MiB (the default before swarming, the baseline), 4 MiB, 1 MiB and
 * 256 KiB; and the default size with 4 requests in flight per source instead
 * of 2. How the chunk size was chosen (docs/SWARM.md).
 */
export async function runChunkSizeBench(): Promise<BenchResult[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-bench-chunks-'));
  try {
    const size = Number(process.env.BENCH_DOWNLOAD_BYTES ?? 512 * MiB);
    const src = path.join(work, 'src');
    await makeSourceGame(src, size, false);
    const results: BenchResult[] = [];
    let base = 0;
    const cases: { name: string; chunk: number | null; requests?: number }[] = [
      { name: '16 MiB chunks', chunk: 16 * MiB },
      { name: 'chunks sized by file (the default)', chunk: null },
      { name: 'chunks sized by file, 4 requests per source', chunk: null, requests: 4 },
      { name: '4 MiB chunks', chunk: 4 * MiB },
      { name: '1 MiB chunks', chunk: MiB },
      { name: '256 KiB chunks', chunk: 256 * 1024 },
    ];
    for (const c of cases) {
      const env: Record<string, string> = c.chunk ? { LANSPREAD_CHUNK_BYTES: String(c.chunk) } : {};
      const receiver: Record<string, string> = c.requests ? { LANSPREAD_REQUESTS_PER_SOURCE: String(c.requests) } : {};
      await timedDownload(work, [src], env, receiver); // hash with this chunk size first
      const runs: Timed[] = [];
      for (let i = 0; i < 3; i++) runs.push(await timedDownload(work, [src], env, receiver));
      const best = runs.reduce((a, b) => (a.seconds < b.seconds ? a : b));
      const mibs = size / MiB / best.seconds;
      if (base === 0) base = mibs;
      results.push({
        name: `${size / MiB} MiB from 1 source, ${c.name} (best of 3)`,
        value: mibs,
        unit: 'MiB/s',
        ratio: mibs / base,
        note: `${(best.cpu / (size / GiB)).toFixed(1)} CPU s/GiB, both processes`,
      });
    }
    return results;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
