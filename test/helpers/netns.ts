// A few "hosts" on one machine for scenario tests: each host is a Linux network
// namespace with its own interfaces and addresses, and each segment is a bridge
// that the hosts' veths plug into. The bridges live in a switch namespace of
// their own, so nothing is added to the machine's own network and deleting the
// namespaces removes everything. Names carry the creating process's pid and a
// random suffix: parallel test files never collide, and namespaces whose creator
// is dead (a crashed run) are removed by the next run. With `rate`, every link
// is limited to that rate in both directions by a token bucket (`tc tbf`) on
// both ends of its veth. This module loads vitest only when a test tears the
// network down, so benchmarks can use it too.
import { execFile, execFileSync, spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Every namespace made here starts with this, followed by `<pid>-<random>-`. */
export const NETNS_PREFIX = 'lsn-';

export interface NetnsSupport {
  ok: boolean;
  reason?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface HostInterface {
  /** name inside the host, `eth0`, `eth1`, … */
  name: string;
  address: string;
  /** index into `Network.segments` */
  segment: number;
}

export interface Host {
  /** the network namespace's name */
  name: string;
  /** address of the first interface */
  address: string;
  interfaces: HostInterface[];
  /** run a command in the host and wait for it; never rejects on a non-zero exit */
  exec(cmd: string, args?: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<ExecResult>;
  /** start a command in the host; it is killed when the network is destroyed */
  spawn(cmd: string, args?: string[], opts?: SpawnOptions): ChildProcess;
}

export interface Segment {
  bridge: string;
  /** e.g. `10.77.0.0/24` */
  subnet: string;
}

export interface Network {
  id: string;
  hosts: Host[];
  segments: Segment[];
  /** kill everything running in the hosts and remove the namespaces; idempotent */
  destroy(): Promise<void>;
}

export interface NetworkOptions {
  /**
   * `'test'` (default, call it inside a test): destroyed by `onTestFinished`.
   * `'manual'` (e.g. from a `beforeAll`): the caller registers `destroy` itself,
   * typically with `afterAll`. A run that dies before either is cleaned up by
   * the next `createNetwork` (see `removeLeftovers`).
   */
  teardown?: 'test' | 'manual';
  /** limit every link to this rate, both directions (needs `tc`: see `canRateLimit`) */
  rate?: LinkRate;
}

export interface LinkRate {
  /** megabits per second (10^6 bit/s), counted on the wire (Ethernet frames) */
  mbit: number;
  /** bytes the bucket holds: how much may pass at once above the rate; default `tbfBurstBytes` */
  burstBytes?: number;
  /** the longest a packet may wait in the queue before it is dropped; default 50 ms */
  latencyMs?: number;
}

/**
 * The bucket: at least 64 KiB (a whole GSO/TSO super-packet passes without
 * being cut up) and at least 2 ms of the rate (so timer slack in waking the
 * queue never holds a fast link below its rate).
 */
export function tbfBurstBytes(mbit: number): number {
  return Math.max(64 * 1024, Math.ceil((mbit * 1e6) / 8 / 500));
}

/** The `tc` arguments, after `qdisc replace dev IFACE`, that put `rate` on an interface's egress. */
export function tbfArgs(rate: LinkRate): string[] {
  if (!(rate.mbit > 0)) throw new Error(`link rate must be positive, got ${rate.mbit}`);
  const burst = rate.burstBytes ?? tbfBurstBytes(rate.mbit);
  // a queue of `latencyMs` at the rate: deep enough that paced UDP (QUIC) and TCP flows fill the link, shallow enough to drop
  return ['root', 'tbf', 'rate', `${Math.round(rate.mbit * 1000)}kbit`, 'burst', String(burst), 'latency', `${rate.latencyMs ?? 50}ms`];
}

let support: NetnsSupport | undefined;
let tcSupport: NetnsSupport | undefined;

/** Root, Linux, `ip netns` present and a namespace can actually be made here. */
export function canUseNetns(): NetnsSupport {
  if (support) return support;
  support = probe();
  return support;
}

function probe(): NetnsSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run the tests as root)' };
  const name = `${NETNS_PREFIX}${process.pid}-probe${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  } catch (err) {
    const msg = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    return { ok: false, reason: `"ip netns add" failed: ${msg}` };
  }
  try {
    execFileSync('ip', ['-n', name, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1'], { stdio: 'pipe' });
    execFileSync('ip', ['-n', name, 'link', 'add', 'probebr', 'type', 'bridge'], { stdio: 'pipe' });
  } catch (err) {
    const msg = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    return { ok: false, reason: `cannot make veth pairs or bridges: ${msg}` };
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
    } catch {
      // best effort
    }
  }
  return { ok: true };
}

/** `canUseNetns`, and `tc` can put a token bucket (tbf) on a veth here: what `rate` needs. */
export function canRateLimit(): NetnsSupport {
  const netns = canUseNetns();
  if (!netns.ok) return netns;
  tcSupport ??= probeTc();
  return tcSupport;
}

function probeTc(): NetnsSupport {
  const name = `${NETNS_PREFIX}${process.pid}-probe${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    execFileSync('ip', ['-n', name, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1'], { stdio: 'pipe' });
    execFileSync('tc', ['-n', name, 'qdisc', 'replace', 'dev', 'probe0', ...tbfArgs({ mbit: 1 })], { stdio: 'pipe' });
    return { ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') return { ok: false, reason: '"tc" is missing (Debian: apt-get install iproute2)' };
    return { ok: false, reason: `"tc qdisc … tbf" failed: ${e.stderr?.toString().trim() || e.message}` };
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
    } catch {
      // best effort
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function run(cmd: string, args: string[], input?: string): Promise<void> {
  if (input === undefined) {
    await execFileP(cmd, args);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawnChild(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`))));
    child.stdin!.end(input);
  });
}

/** Kill every process inside the namespace, then delete it. */
async function removeNamespace(ns: string): Promise<void> {
  try {
    const { stdout } = await execFileP('ip', ['netns', 'pids', ns]);
    for (const pid of stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // namespace already gone
  }
  try {
    await execFileP('ip', ['netns', 'del', ns]);
  } catch {
    // already gone
  }
}

/** Remove namespaces left by runs whose process is dead (crashed or killed). */
export async function removeLeftovers(): Promise<string[]> {
  const list = await execFileP('ip', ['netns', 'list']).then(
    (r) => r.stdout,
    () => '',
  );
  const stale: string[] = [];
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const m = ns.startsWith(NETNS_PREFIX) ? /^(\d+)-/.exec(ns.slice(NETNS_PREFIX.length)) : null;
    if (m && !pidAlive(Number(m[1]))) stale.push(ns);
  }
  await Promise.all(stale.map(removeNamespace));
  return stale;
}

/**
 * Make a network. `layout` is the number of hosts (all on one segment) or, per
 * host, the segments it has an interface on: `[[0], [0, 1], [1]]` is a host on
 * segment 0, a host on both, and a host on segment 1. Segment k is
 * `10.77.k.0/24`; host i has `10.77.k.(i + 1)` there. Its first interface also
 * carries the multicast route (224.0.0.0/4), the way a default route would.
 */
export async function createNetwork(layout: number | number[][], opts: NetworkOptions = {}): Promise<Network> {
  const support = opts.rate ? canRateLimit() : canUseNetns();
  if (!support.ok) throw new Error(`network namespaces${opts.rate ? ' with rate limits' : ''} unavailable: ${support.reason}`);
  const shaping = opts.rate ? tbfArgs(opts.rate) : undefined;
  await removeLeftovers();

  const plan = typeof layout === 'number' ? Array.from({ length: layout }, () => [0]) : layout;
  if (plan.length === 0 || plan.length > 200) throw new Error('createNetwork: 1 to 200 hosts');
  const segmentCount = Math.max(...plan.flat()) + 1;
  if (segmentCount > 250 || plan.some((segs) => segs.length === 0 || segs.length > 8 || new Set(segs).size !== segs.length)) {
    throw new Error('createNetwork: each host needs 1 to 8 distinct segments');
  }

  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const sw = `${NETNS_PREFIX}${id}-sw`;
  const hostNames = plan.map((_, i) => `${NETNS_PREFIX}${id}-h${i}`);
  const namespaces = [sw, ...hostNames];
  const children = new Set<ChildProcess>();
  let destroyed: Promise<void> | undefined;

  const destroy = (): Promise<void> => {
    destroyed ??= (async () => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await Promise.all(namespaces.map(removeNamespace));
    })();
    return destroyed;
  };

  const segments: Segment[] = Array.from({ length: segmentCount }, (_, k) => ({ bridge: `br${k}`, subnet: `10.77.${k}.0/24` }));
  try {
    await Promise.all(namespaces.map((ns) => run('ip', ['netns', 'add', ns])));
    // The switch: one bridge per segment, no STP delay, no IGMP snooping.
    const swCmds = ['link set lo up'];
    for (const s of segments) {
      swCmds.push(`link add ${s.bridge} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`, `link set ${s.bridge} up`);
    }
    await run('ip', ['-n', sw, '-batch', '-'], swCmds.join('\n') + '\n');

    const hosts = await Promise.all(
      plan.map(async (segs, i) => {
        const ns = hostNames[i]!;
        const interfaces: HostInterface[] = segs.map((segment, j) => ({ name: `eth${j}`, address: `10.77.${segment}.${i + 1}`, segment }));
        const hostCmds = ['link set lo up'];
        const swPorts: string[] = [];
        const shape: { ns: string; dev: string }[] = [];
        for (const itf of interfaces) {
          const port = `h${i}e${itf.name.slice(3)}`;
          // Made in the switch namespace, the host end moved into the host under its final name.
          await run('ip', ['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', itf.name, 'netns', ns]);
          swPorts.push(`link set ${port} master ${segments[itf.segment]!.bridge}`, `link set ${port} up`);
          hostCmds.push(`addr add ${itf.address}/24 dev ${itf.name}`, `link set ${itf.name} up`);
          // both ends: the host's egress is its upload, the bridge port's egress is its download
          shape.push({ ns, dev: itf.name }, { ns: sw, dev: port });
        }
        hostCmds.push(`route add 224.0.0.0/4 dev ${interfaces[0]!.name}`);
        await run('ip', ['-n', sw, '-batch', '-'], swPorts.join('\n') + '\n');
        await run('ip', ['-n', ns, '-batch', '-'], hostCmds.join('\n') + '\n');
        if (shaping) for (const end of shape) await run('tc', ['-n', end.ns, 'qdisc', 'replace', 'dev', end.dev, ...shaping]);
        return makeHost(ns, interfaces, children);
      }),
    );
    const network: Network = { id, hosts, segments, destroy };
    if ((opts.teardown ?? 'test') === 'test') (await import('vitest')).onTestFinished(destroy);
    return network;
  } catch (err) {
    await destroy();
    throw err;
  }
}

function makeHost(ns: string, interfaces: HostInterface[], children: Set<ChildProcess>): Host {
  const wrap = (cmd: string, args: string[]) => ['netns', 'exec', ns, cmd, ...args];
  return {
    name: ns,
    address: interfaces[0]!.address,
    interfaces,
    exec(cmd, args = [], opts = {}) {
      return new Promise<ExecResult>((resolve) => {
        execFile(
          'ip',
          wrap(cmd, args),
          { timeout: opts.timeoutMs ?? 10_000, env: opts.env ?? process.env, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
            resolve({ stdout: String(stdout), stderr: String(stderr), code });
          },
        );
      });
    },
    spawn(cmd, args = [], opts = {}) {
      const child = spawnChild('ip', wrap(cmd, args), opts);
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
  };
}
