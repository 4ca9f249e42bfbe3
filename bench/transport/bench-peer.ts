// One side of a bulk-transfer benchmark, run as its own process so that the
// sender and the receiver each have an event loop (and a core) to themselves,
// as two nodes on a LAN would. The receiver asks for N bytes per stream with
// one framed JSON request; the sender answers with raw bytes. Each side
// prints one JSON line: the server its port, then both their CPU use.
//
//   bench-peer.js quic-server|tls-server
//   bench-peer.js quic-client|tls-client PORT STREAMS BYTES
// Each QUIC peer makes its own key; the TLS baseline uses the certificate kept
// beside this file (a baseline only: nodes never use TLS over TCP).
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { readMessage, writeMessage } from '../../server/runtime/transport/framing.js';
import { generateIdentity } from '../../server/runtime/transport/identity.js';
import { QuinnTransport, type QuinnTransportOptions } from '../../server/runtime/transport/quinn-transport.js';
import type { TransportConnection } from '../../server/runtime/transport/transport.js';

const CHUNK = 1024 * 1024;
const key = readFileSync(new URL('tls-baseline-key.pem', import.meta.url.replace('/dist/bench/', '/bench/')));
const cert = readFileSync(new URL('tls-baseline-cert.pem', import.meta.url.replace('/dist/bench/', '/bench/')));
/** Tuning experiments: BENCH_TUNING='{"streamWindowBytes":4194304}' is merged into the QUIC options. */
const tuning = JSON.parse(process.env.BENCH_TUNING ?? '{}') as Partial<QuinnTransportOptions>;
const payload = Buffer.alloc(CHUNK, 0x5a);

function report(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function drain(s: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      s.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      s.off('drain', onDrain);
      reject(err);
    };
    s.once('drain', onDrain);
    s.once('error', onError);
  });
}

/** Answers one request on `s` with the requested number of bytes. */
async function serve(s: Duplex): Promise<void> {
  const req = (await readMessage(s)) as { bytes: number };
  let left = req.bytes;
  while (left > 0) {
    const n = Math.min(left, CHUNK);
    left -= n;
    if (!s.write(n === CHUNK ? payload : payload.subarray(0, n))) await drain(s);
  }
  s.end();
}

/** Requests `bytes` on `s` and counts what arrives. */
async function fetch(s: Duplex, bytes: number): Promise<number> {
  await writeMessage(s, { bytes });
  let got = 0;
  for await (const chunk of s) got += (chunk as Buffer).length;
  return got;
}

async function quicServer(): Promise<void> {
  const t = new QuinnTransport({ host: '127.0.0.1', identity: await generateIdentity(), ...tuning });
  let cpu0: NodeJS.CpuUsage | null = null;
  t.onConnection((c: TransportConnection) => {
    c.onStream((s) => {
      cpu0 ??= process.cpuUsage();
      s.on('error', () => undefined);
      void serve(s).catch(() => undefined);
    });
    void c.closed.then(async () => {
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      report({ cpuSeconds: (cpu.user + cpu.system) / 1e6, stats: t.stats() });
      await t.close();
      process.exit(0);
    });
  });
  const e = await t.listen();
  report({ port: e.port });
}

async function quicClient(port: number, streams: number, bytes: number): Promise<void> {
  const t = new QuinnTransport({ host: '127.0.0.1', identity: await generateIdentity(), ...tuning });
  const conn = await t.connect({ host: '127.0.0.1', port });
  const per = Math.floor(bytes / streams);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: streams }, async () => fetch(await conn.openStream(), per)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const got = counts.reduce((a, b) => a + b, 0);
  report({ bytes: got, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, stats: t.stats() });
  await conn.close();
  await t.close();
  process.exit(0);
}

async function tlsServer(): Promise<void> {
  let cpu0: NodeJS.CpuUsage | null = null;
  let open = 0;
  const server = tls.createServer({ key, cert }, (socket) => {
    cpu0 ??= process.cpuUsage();
    open++;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (--open > 0) return;
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      report({ cpuSeconds: (cpu.user + cpu.system) / 1e6 });
      server.close();
      process.exit(0);
    });
    void serve(socket).catch(() => undefined);
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    report({ port: typeof a === 'object' && a ? a.port : 0 });
  });
}

async function tlsClient(port: number, streams: number, bytes: number): Promise<void> {
  const per = Math.floor(bytes / streams);
  const sockets = await Promise.all(
    Array.from(
      { length: streams },
      () =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const counts = await Promise.all(sockets.map((s) => fetch(s, per)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  report({ bytes: counts.reduce((a, b) => a + b, 0), seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 50);
}

const [role, portArg, streamsArg, bytesArg] = process.argv.slice(2);
const port = Number(portArg);
const streams = Number(streamsArg);
const bytes = Number(bytesArg);
switch (role) {
  case 'quic-server':
    await quicServer();
    break;
  case 'quic-client':
    await quicClient(port, streams, bytes);
    break;
  case 'tls-server':
    await tlsServer();
    break;
  case 'tls-client':
    await tlsClient(port, streams, bytes);
    break;
  default:
    console.error(`unknown role ${role}`);
    process.exit(2);
}
