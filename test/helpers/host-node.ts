// A real `lanspread serve` process inside a netns test host, for scenarios and
// benchmarks:
// QUIC on the host's own address, peers named with --peer (no mDNS, so the
// mesh is known and no multicast crosses the rate-limited links), and its API
// (on the host's loopback) reached through a Unix-socket forwarder. The node is
// killed with the network.
import type { ChildProcess } from 'node:child_process';
import { hostApi, type HostApi } from './netns-api.js';
import type { Host } from './netns.js';
import { serveArgs } from './node-process.js';

/** every node listens for QUIC on this port (each host has its own port space) */
export const HOST_QUIC_PORT = 7421;

export interface HostNode {
  name: string;
  host: Host;
  games: string;
  child: ChildProcess;
  /** pid of the node (`ip netns exec` execs it, so it is the spawned process) */
  pid: number;
  api: HostApi;
  /** what the node logged so far (warnings and errors) */
  log(): string;
}

export interface HostNodeOptions {
  name: string;
  games: string;
  state: string;
  /** `address:port` of every other node */
  peers: string[];
  env?: Record<string, string>;
}

export async function startHostNode(host: Host, opts: HostNodeOptions): Promise<HostNode> {
  const args = [
    ...serveArgs(opts.games, opts.state, '127.0.0.1:0'),
    '--quic-port',
    String(HOST_QUIC_PORT),
    '--no-mdns',
    '--name',
    opts.name,
    '--log-level',
    'warn',
    ...opts.peers.flatMap((p) => ['--peer', p]),
  ];
  const child = host.spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LANSPREAD_NO_MDNS: '1', ...opts.env },
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
    if (log.length > 4 * 1024 * 1024) log = log.slice(-2 * 1024 * 1024);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${opts.name} did not start within 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /dashboard: (http:\/\/\S+?\/)/.exec(out)?.[1];
      if (url && /QUIC port \d+/.test(out)) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited with ${code}:\n${out}${log}`));
    });
  });
  child.stdout!.removeAllListeners('data');
  child.stdout!.resume(); // keep draining: a full pipe would block the node
  return { name: opts.name, host, games: opts.games, child, pid: child.pid!, api: await hostApi(host, url), log: () => log };
}
