// A node inside a netns host listens for HTTP on the host's own loopback, out of
// reach of the test or benchmark process. A tiny forwarder started in the host
// accepts on a Unix socket (files are shared by all namespaces) and relays each
// connection to 127.0.0.1:PORT there; requests then go through that socket. No
// process is spawned per request, so polling many nodes costs little CPU.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Host } from './netns.js';

const FORWARDER = `
const net = require('node:net');
const [sock, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(port), '127.0.0.1');
  c.pipe(u).pipe(c);
  u.on('error', () => c.destroy());
  c.on('error', () => u.destroy());
}).listen(sock, () => console.log('ready'));
`;

export interface HostApi {
  /** the forwarder's process (its CPU counts in a benchmark) */
  child: ChildProcess;
  /** JSON request; rejects on a non-2xx answer with its status and body */
  request<T>(method: string, route: string, body?: unknown): Promise<T>;
  get<T>(route: string): Promise<T>;
  post<T>(route: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** Reach `url` (e.g. `http://127.0.0.1:41234/`, as seen inside `host`) from this process. */
export async function hostApi(host: Host, url: string): Promise<HostApi> {
  const port = Number(new URL(url).port);
  const socketPath = path.join(os.tmpdir(), `lanspread-api-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
  const child = host.spawn(process.execPath, ['-e', FORWARDER, socketPath, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`API forwarder in ${host.name} exited with ${code}`)));
  });
  const agent = new http.Agent({ keepAlive: true });

  const request = <T>(method: string, route: string, body?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          socketPath,
          agent,
          method,
          path: route,
          // the node checks the Host header against its own address
          headers: { host: `127.0.0.1:${port}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) reject(new Error(`${method} ${route} in ${host.name}: ${status} ${text}`));
            else resolve((text ? JSON.parse(text) : null) as T);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  return {
    child,
    request,
    get: (route) => request('GET', route),
    post: (route, body = {}) => request('POST', route, body),
    async close() {
      agent.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      await fs.rm(socketPath, { force: true });
    },
  };
}
