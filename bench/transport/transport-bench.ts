// Bulk throughput of the QUIC transport between two processes over loopback,
// beside Node's TLS over TCP measured in the same run (the ceiling for a Node
// process). Reports MiB/s, the ratio to TLS with the same number of parallel
// streams/connections, and CPU seconds per GiB of both processes together.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../bench-util.js';

export interface TransportBenchOptions {
  /** Bytes per case; default 1 GiB. */
  bytes?: number;
  /** Parallel streams of the multi-stream cases; default 4. */
  parallel?: number;
  /** Write V8 CPU profiles of the QUIC peers into this folder. */
  cpuProfileDir?: string;
  /** Give up on a case after this long. */
  timeoutMs?: number;
}

export interface TransportCase {
  kind: 'quic' | 'tls';
  streams: number;
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  cpuSecondsPerGiB: number;
  /** CPU seconds per GiB of the sending and the receiving process. */
  senderCpuPerGiB: number;
  receiverCpuPerGiB: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const peerScript = `${here}bench-peer${ext}`;

function jsonLines(child: ChildProcess): AsyncIterator<Record<string, unknown>> {
  const rl = createInterface({ input: child.stdout! });
  const it = rl[Symbol.asyncIterator]();
  return {
    async next() {
      for (;;) {
        const r = await it.next();
        if (r.done) return { done: true, value: undefined };
        try {
          return { done: false, value: JSON.parse(r.value) as Record<string, unknown> };
        } catch {
          // not ours (a warning line): skip
        }
      }
    },
  };
}

function startPeer(args: string[], profileDir?: string): ChildProcess {
  const execArgv = [...process.execArgv];
  if (profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  return spawn(process.execPath, [...execArgv, peerScript, ...args], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function exited(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function next(lines: AsyncIterator<Record<string, unknown>>, what: string): Promise<Record<string, unknown>> {
  const r = await lines.next();
  if (r.done) throw new Error(`${what} exited without a result`);
  return r.value;
}

async function runCase(kind: 'quic' | 'tls', streams: number, bytes: number, options: TransportBenchOptions): Promise<TransportCase> {
  const profile = kind === 'quic' ? options.cpuProfileDir : undefined;
  const server = startPeer([`${kind}-server`], profile);
  let client: ChildProcess | null = null;
  const timer = setTimeout(() => {
    server.kill('SIGKILL');
    client?.kill('SIGKILL');
  }, options.timeoutMs ?? 180_000);
  try {
    const serverLines = jsonLines(server);
    const { port } = await next(serverLines, 'server');
    client = startPeer([`${kind}-client`, String(port), String(streams), String(bytes)], profile);
    const result = await next(jsonLines(client), 'client');
    const serverResult = await next(serverLines, 'server');
    const seconds = Number(result.seconds);
    const got = Number(result.bytes);
    if (got !== Math.floor(bytes / streams) * streams) throw new Error(`${kind}: received ${got} of ${bytes} bytes`);
    const gib = got / 2 ** 30;
    const cpu = Number(result.cpuSeconds) + Number(serverResult.cpuSeconds);
    return {
      senderCpuPerGiB: Number(serverResult.cpuSeconds) / gib,
      receiverCpuPerGiB: Number(result.cpuSeconds) / gib,
      kind,
      streams,
      bytes: got,
      seconds,
      mibPerSecond: got / 2 ** 20 / seconds,
      cpuSecondsPerGiB: cpu / gib,
    };
  } finally {
    clearTimeout(timer);
    // Let the peers exit by themselves (CPU profiles are written on exit).
    await Promise.all([exited(server), client ? exited(client) : undefined]);
  }
}

/** Runs every case once; rows are ready for bench/bench-util's formatTable. */
export async function runTransportCases(options: TransportBenchOptions = {}): Promise<TransportCase[]> {
  const bytes = options.bytes ?? 2 ** 30;
  const parallel = options.parallel ?? 4;
  const cases: TransportCase[] = [];
  const widths = parallel > 1 ? [1, parallel] : [1];
  for (const n of widths) cases.push(await runCase('tls', n, bytes, options));
  for (const n of widths) cases.push(await runCase('quic', n, bytes, options));
  return cases;
}

export function toBenchResults(cases: TransportCase[]): BenchResult[] {
  const tls = new Map(cases.filter((c) => c.kind === 'tls').map((c) => [c.streams, c.mibPerSecond]));
  return cases.map((c) => {
    const what =
      c.kind === 'tls'
        ? `TLS over TCP, ${c.streams} connection${c.streams > 1 ? 's' : ''} (baseline)`
        : `QUIC (quinn), ${c.streams} stream${c.streams > 1 ? 's' : ''}`;
    const base = tls.get(c.streams);
    return {
      name: what,
      value: c.mibPerSecond,
      unit: 'MiB/s',
      ratio: base ? c.mibPerSecond / base : undefined,
      note:
        `${c.cpuSecondsPerGiB.toFixed(2)} CPU s/GiB (sender ${c.senderCpuPerGiB.toFixed(2)} + receiver ` +
        `${c.receiverCpuPerGiB.toFixed(2)}); ${(c.bytes / 2 ** 30).toFixed(2)} GiB in ${c.seconds.toFixed(1)} s`,
    };
  });
}

/** The transport benchmark for bench/run.ts. */
export async function runTransportBench(options: TransportBenchOptions = {}): Promise<BenchResult[]> {
  return toBenchResults(await runTransportCases(options));
}
