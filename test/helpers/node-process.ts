// Starts a real `lanspread serve` process (the compiled dist/, built by the
// test command's pretest step) and tells its dashboard URL once it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: the first folder up from here with a package.json (this file also runs compiled, from dist/, in benchmarks). */
export const PROJECT_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
export const CLI = path.join(PROJECT_ROOT, 'dist', 'server', 'cli', 'main.js');

export interface NodeProcess {
  url: string;
  /** the QUIC port peers reach it on */
  quicPort: number;
  pid: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stop the process (SIGTERM by default) and wait for it to exit */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** resolves with the exit code when the process exits */
  exited: Promise<number | null>;
}

export interface StartNodeOptions {
  games: string;
  state: string;
  catalog?: string;
  args?: string[];
  env?: Record<string, string>;
  /** command prefix, e.g. ['ip', 'netns', 'exec', 'ns1'] */
  wrap?: string[];
  http?: string;
  timeoutMs?: number;
  /** use mDNS discovery (off by default) */
  mdns?: boolean;
}

/** `node … lanspread serve` on these folders and HTTP address, run as the lanspread bin and npm start run it. */
export function serveArgs(games: string, state: string, http: string): string[] {
  return ['--max-semi-space-size=2', CLI, 'serve', '--games', games, '--state', state, '--http', http];
}

export async function startNode(opts: StartNodeOptions): Promise<NodeProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it)`);
  const args = [
    ...serveArgs(opts.games, opts.state, opts.http ?? '127.0.0.1:0'),
    ...(opts.mdns ? [] : ['--no-mdns']),
    '--log-level',
    'debug',
    ...(opts.catalog ? ['--catalog', opts.catalog] : []),
    ...(opts.args ?? []),
  ];
  const [cmd, ...cmdArgs] = opts.wrap ? [...opts.wrap, process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(cmd as string, cmdArgs, {
    env: { ...process.env, LANSPREAD_NO_MDNS: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node did not start within ${opts.timeoutMs ?? 20_000} ms\nstdout:\n${out}\nstderr:\n${err}`));
    }, opts.timeoutMs ?? 20_000);
    const check = () => {
      const m = /dashboard: (http:\/\/\S+?\/)(?:#\S*)?$/m.exec(out);
      if (m && /QUIC port/.test(out)) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before listening\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });

  const quicPort = Number(/QUIC port (\d+)/.exec(out)?.[1] ?? NaN);
  return {
    url,
    quicPort,
    pid: child.pid!,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
