// `npm run bench -- swarm`: one seed and N players, each a real `lanspread
// serve` in its own netns test host, every link limited to the same rate by
// `tc tbf` on both veth ends. The seed holds a game of random bytes; every
// player clicks Download (no install) at the same moment. Measured: the time
// until every player is done (and each player's), every node's uploaded bytes
// (/api/stats), and the CPU of all node processes from /proc, beside the fluid
// lower bound computed from the configured rate and size of the same run.
// Every player's file is checked byte for byte against the seed's afterwards.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GameDetail, Stats } from '../../shared/api.js';
import { canRateLimit, createNetwork, type Network } from '../../test/helpers/netns.js';
import { BENCH_GAME as ID, makeSourceGame, until } from '../bench-node.js';
import type { BenchResult } from '../bench-util.js';
import { sourceStateDir, timedDownload } from '../download/download-bench.js';
import { fluidBound, mbitToBytes, type FluidBound } from './fluid-bound.js';
import { HOST_QUIC_PORT, startHostNode, type HostNode } from '../../test/helpers/host-node.js';
import { CpuWatch, type CpuReport } from './cpu-watch.js';

const MiB = 1024 ** 2;
/** how often each player is asked whether it is done: the times are this precise, and the polling costs the nodes little CPU */
const POLL_MS = 250;

export interface SwarmSetup {
  /** false: complete holders only (LANSPREAD_NO_SWARM=1 on every node), the comparison */
  swarm: boolean;
  players: number;
  /** every link's rate, both directions */
  mbit: number;
  sizeBytes: number;
}

export interface SwarmRun {
  setup: SwarmSetup;
  bound: FluidBound;
  /** click to the last player done, seconds */
  allDone: number;
  /** click to each player done, seconds, in player order */
  players: number[];
  seedUploaded: number;
  playersUploaded: number[];
  cpu: CpuReport;
}

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got "${v}"`);
  return n;
};

/** The setups: BENCH_SWARM_{PLAYERS,MBIT,MIB} (6, 40, 64) and BENCH_SWARM_LARGE_{…} (12, 20, 32); BENCH_SWARM_LARGE=0 skips the large one. */
export function swarmSetups(): SwarmSetup[] {
  const setup = (prefix: string, players: number, mbit: number, mib: number): SwarmSetup => ({
    swarm: true,
    players: Math.round(env(`${prefix}_PLAYERS`, players)),
    mbit: env(`${prefix}_MBIT`, mbit),
    sizeBytes: Math.round(env(`${prefix}_MIB`, mib) * MiB),
  });
  const setups = [setup('BENCH_SWARM', 6, 40, 64)];
  if (process.env.BENCH_SWARM_LARGE !== '0') setups.push(setup('BENCH_SWARM_LARGE', 12, 20, 32));
  return setups;
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const gameFile = (games: string) => path.join(games, ID, `${ID}.eti`);

/** One swarm: build the hosts, start the nodes, click everywhere at once, wait for all, read the counters. */
export async function runSwarm(work: string, setup: SwarmSetup): Promise<SwarmRun> {
  const { players: n, mbit, sizeBytes } = setup;
  const dir = await fs.mkdtemp(path.join(work, `swarm-${n}x${mbit}-`));
  const seedGames = path.join(dir, 'seed');
  await makeSourceGame(seedGames, sizeBytes, false);
  // the seed hashes its chunks once, on loopback, before the timed run (its hash cache lives in its state dir)
  await timedDownload(dir, [seedGames]);

  let net: Network | undefined;
  const nodes: HostNode[] = [];
  try {
    net = await createNetwork(n + 1, { teardown: 'manual', rate: { mbit } });
    const hosts = net.hosts;
    const endpoints = hosts.map((h) => `${h.address}:${HOST_QUIC_PORT}`);
    const others = (i: number) => endpoints.filter((_, j) => j !== i);
    nodes.push(
      ...(await Promise.all(
        hosts.map(async (host, i) => {
          const games = i === 0 ? seedGames : path.join(dir, `player-${i}`);
          const state = i === 0 ? sourceStateDir(seedGames) : path.join(dir, `player-${i}.state`);
          const env: Record<string, string> = setup.swarm ? {} : { LANSPREAD_NO_SWARM: '1' };
          return startHostNode(host, { name: i === 0 ? 'seed' : `player-${i}`, games, state, peers: others(i), env });
        }),
      )),
    );
    const players = nodes.slice(1);
    // ready: a full mesh, and every player sees the seed's game
    await until(
      async () => {
        const peers = await Promise.all(nodes.map((x) => x.api.get<unknown[]>('/api/peers')));
        if (peers.some((p) => p.length !== n)) return undefined;
        const games = await Promise.all(players.map((p) => p.api.get<GameDetail>(`/api/games/${ID}`)));
        return games.every((g) => g.peers >= 1) ? true : undefined;
      },
      120_000,
      250,
    );

    const cpu = new CpuWatch(
      nodes.map((x) => x.pid),
      nodes.map((x) => x.api.child.pid!),
    );
    await cpu.start();
    const t0 = performance.now();
    await Promise.all(players.map((p) => p.api.post(`/api/games/${ID}/download`, { install: false })));
    // generous: ten times the complete-holders-only time, plus start-up
    const timeoutMs = (10 * n * sizeBytes * 1000) / mbitToBytes(mbit) + 60_000;
    const done = await Promise.all(
      players.map((p) =>
        until(
          async () => {
            const g = await p.api.get<GameDetail>(`/api/games/${ID}`);
            if (g.lastError) throw new Error(`${p.name}: download failed: ${JSON.stringify(g.lastError)}`);
            return g.downloaded && g.operation === null ? (performance.now() - t0) / 1000 : undefined;
          },
          timeoutMs,
          POLL_MS,
        ),
      ),
    );
    const cpuReport = await cpu.stop();
    const uploaded = await Promise.all(nodes.map(async (x) => (await x.api.get<Stats>('/api/stats')).uploadedBytes));

    const want = await sha256(gameFile(seedGames));
    for (const p of players) {
      if ((await sha256(gameFile(p.games))) !== want) throw new Error(`${p.name}: the downloaded game differs from the seed's`);
    }
    const rate = mbitToBytes(mbit);
    return {
      setup,
      bound: fluidBound({ sizeBytes, seedUp: rate, playersUp: players.map(() => rate), playersDown: players.map(() => rate) }),
      allDone: Math.max(...done),
      players: done,
      seedUploaded: uploaded[0]!,
      playersUploaded: uploaded.slice(1),
      cpu: cpuReport,
    };
  } finally {
    await Promise.all(nodes.map((x) => x.api.close()));
    await net?.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The rows of one run, ratios to the fluid bound. */
export function swarmResults(r: SwarmRun): BenchResult[] {
  const { players: n, mbit, sizeBytes } = r.setup;
  const label = `1 seed + ${n} players, ${sizeBytes / MiB} MiB, ${mbit} Mbit/s links${r.setup.swarm ? '' : ', complete holders only'}`;
  const f = (s: number) => s.toFixed(1);
  const sorted = [...r.players].sort((a, b) => a - b);
  const seedMbit = (r.seedUploaded * 8) / r.allDone / 1e6;
  const cores = os.cpus().length;
  const c = r.cpu;
  const players = c.perNode.slice(1);
  return [
    {
      name: `${label}: fluid lower bound T*`,
      value: r.bound.seconds,
      unit: 's',
      ratio: 1,
      note: `max(F/u_seed ${f(r.bound.seedUplink)}, F/d_min ${f(r.bound.slowestDownlink)}, N·F/(u_seed+Σu_i) ${f(r.bound.allUplinks)}) s`,
    },
    {
      name: `${label}: click to every player done`,
      value: r.allDone,
      unit: 's',
      ratio: r.allDone / r.bound.seconds,
      note: `each player (sorted): ${sorted.map(f).join(', ')} s; goal ≤ 1.3× T* (no worse than 1.5×)`,
    },
    {
      name: `${label}: seed uploaded`,
      value: r.seedUploaded / sizeBytes,
      unit: '× F',
      note:
        `${(r.seedUploaded / MiB).toFixed(0)} MiB, ${seedMbit.toFixed(1)} Mbit/s over the run (${((100 * seedMbit) / mbit).toFixed(0)}% of its link); ` +
        `players uploaded ${r.playersUploaded.map((b) => (b / sizeBytes).toFixed(2)).join(', ')} × F`,
    },
    {
      name: `${label}: CPU of the ${n + 1} node processes`,
      value: c.nodeSeconds,
      unit: 'CPU s',
      note:
        `seed ${c.perNode[0]!.toFixed(1)} CPU s, players ${Math.min(...players).toFixed(1)}–${Math.max(...players).toFixed(1)} each; ${f((100 * c.nodeSeconds) / (r.allDone * cores))}% of ${cores} cores on average, busiest second ${f(c.peakNodesPercent)}%, ` +
        `busiest node's busiest second ${f(c.peakOneNodePercent)}% of one core; API forwarders ${c.forwarderSeconds.toFixed(2)} CPU s; ` +
        `whole machine (other work too) ${f(c.machinePercent)}% busy`,
    },
  ];
}

export async function runSwarmBench(): Promise<BenchResult[]> {
  const support = canRateLimit();
  if (!support.ok) {
    // `npm run bench` runs every benchmark: say why this one has no rows, and let the others run
    console.error(`swarm: skipped, it needs rate-limited test hosts: ${support.reason}`);
    return [];
  }
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-bench-swarm-'));
  try {
    const results: BenchResult[] = [];
    for (const setup of swarmSetups()) {
      // the swarm, then complete holders only (as before the swarm) on the same setup in the same run
      const rows = swarmResults(await runSwarm(work, setup));
      const before = swarmResults(await runSwarm(work, { ...setup, swarm: false }));
      for (const r of [rows[1]!, before[1]!]) console.error(`swarm: ${r.name}: ${r.value.toFixed(1)} s (${r.ratio!.toFixed(2)}× T*)`);
      before[1]!.note += `; the swarm: ${(before[1]!.value / rows[1]!.value).toFixed(2)}× faster`;
      results.push(...rows, ...before.slice(1));
    }
    return results;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
