// How busy the CPU was while a benchmark ran: the node processes' CPU time
// (from /proc/PID/stat), sampled every second for the busiest second, and the
// whole machine's (from /proc/stat, other people's work included). A benchmark
// meant to be limited by its links must show these well below saturation.
import os from 'node:os';
import { cpuSeconds, machineCpu } from '../bench-node.js';

export interface CpuReport {
  /** CPU seconds of the node processes over the run */
  nodeSeconds: number;
  /** the same, per node process, in the order given */
  perNode: number[];
  /** CPU seconds of the helper processes (API forwarders) over the run */
  forwarderSeconds: number;
  /** the node processes together in their busiest one-second sample, % of all cores */
  peakNodesPercent: number;
  /** the busiest node process in its busiest sample, % of one core */
  peakOneNodePercent: number;
  /** the whole machine's busy share over the run, % of all cores */
  machinePercent: number;
}

export class CpuWatch {
  private timer: NodeJS.Timeout | undefined;
  private first: number[] = [];
  private last: number[] = [];
  private lastAt = 0;
  private helpers0: number[] = [];
  private machine0 = { busy: 0, total: 0 };
  private peakNodes = 0;
  private peakOne = 0;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly nodes: number[],
    private readonly helpers: number[],
  ) {}

  async start(): Promise<void> {
    this.first = this.last = await Promise.all(this.nodes.map(cpuSeconds));
    this.lastAt = performance.now();
    this.helpers0 = await Promise.all(this.helpers.map(cpuSeconds));
    this.machine0 = await machineCpu();
    this.timer = setInterval(() => (this.sampling = this.sample()), 1_000);
  }

  private async sample(): Promise<void> {
    const now = await Promise.all(this.nodes.map(cpuSeconds));
    const at = performance.now();
    const wall = (at - this.lastAt) / 1000;
    const deltas = now.map((c, i) => c - this.last[i]!);
    this.peakNodes = Math.max(this.peakNodes, (100 * deltas.reduce((a, b) => a + b, 0)) / (wall * os.cpus().length));
    this.peakOne = Math.max(this.peakOne, (100 * Math.max(...deltas)) / wall);
    this.last = now;
    this.lastAt = at;
  }

  async stop(): Promise<CpuReport> {
    clearInterval(this.timer);
    await this.sampling;
    const nodes = await Promise.all(this.nodes.map(cpuSeconds));
    const helpers = await Promise.all(this.helpers.map(cpuSeconds));
    const machine = await machineCpu();
    const sum = (now: number[], then: number[]) => now.reduce((a, c, i) => a + c - then[i]!, 0);
    return {
      nodeSeconds: sum(nodes, this.first),
      perNode: nodes.map((c, i) => c - this.first[i]!),
      forwarderSeconds: sum(helpers, this.helpers0),
      peakNodesPercent: this.peakNodes,
      peakOneNodePercent: this.peakOne,
      machinePercent: (100 * (machine.busy - this.machine0.busy)) / (machine.total - this.machine0.total),
    };
  }
}
