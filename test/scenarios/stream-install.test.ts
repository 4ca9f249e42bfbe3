// Streamed installs between real `lanspread serve` processes (the built dist/)
// over QUIC on loopback, with real RAR archives. Scenario ids S1–S7 in
// docs/SCENARIOS.md (S6 is the receiver's frame unit test).
//
// Which validated peer a receiver asks first is a hash of the peer ids
// (peer-order.ts), so each test gives its nodes fixed peer ids and hands the
// "bad" role (corrupting, slow then killed, …) to the peer the receiver ranks
// first: the behaviour under test is then surely exercised.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Game } from '../../shared/api.js';
import { openFileSource, scanRarArchive } from '../../server/runtime/extract/rar-headers.js';
import { RarUnpacker } from '../../server/runtime/extract/rar-unpacker.js';
import { orderSenders } from '../../server/runtime/stream-install/peer-order.js';
import { KEY_FILE, generateIdentity, type Identity } from '../../server/runtime/transport/identity.js';
import { getJson, postJson } from '../helpers/api.js';
import { rarFixture } from '../helpers/fixtures.js';
import { startNode, type NodeProcess } from '../helpers/node-process.js';
import { makeGame, tempDir, waitFor } from '../helpers/temp-dir.js';

const VERSION = '20240601';
const CATALOG = {
  games: ['alpha', 'bravo'].map((id) => ({ id, name: id.toUpperCase(), description: `${id} game`, size: 1, eti_version: VERSION })),
};

type Node = NodeProcess & { games: string; state: string; peerId: string };
type LogLine = Record<string, unknown> & { msg: string };

async function node(
  opts: { identity?: Identity; archives?: Record<string, string>; peers?: Node[]; args?: string[]; env?: Record<string, string> } = {},
): Promise<Node> {
  const games = await tempDir();
  const state = await tempDir();
  const catalog = path.join(state, 'catalog.json');
  await fs.writeFile(catalog, JSON.stringify(CATALOG));
  // The node's key is made here, so the test knows (and orders) peer ids before the nodes start.
  const identity = opts.identity ?? (await generateIdentity());
  await fs.writeFile(path.join(state, KEY_FILE), identity.privateKeyProto, { mode: 0o600 });
  const peerId = identity.peerId;
  if (opts.archives) {
    const files: Record<string, Buffer> = {};
    for (const [rel, fixture] of Object.entries(opts.archives)) files[rel] = await fs.readFile(rarFixture(fixture));
    await makeGame(games, 'alpha', { version: VERSION, files });
    await makeGame(games, 'bravo', { version: VERSION, files });
  }
  const args = ['--quic-port', '0', ...(opts.peers ?? []).flatMap((p) => ['--peer', `127.0.0.1:${p.quicPort}`]), ...(opts.args ?? [])];
  const n = await startNode({
    games,
    state,
    catalog,
    args,
    env: { LANSPREAD_PING_INTERVAL_MS: '500', LANSPREAD_PEER_TIMEOUT_MS: '2500', ...opts.env },
  });
  onTestFinished(() => n.stop('SIGKILL'));
  return { ...n, games, state, peerId };
}

/** Peer ids for a receiver and its senders, the senders in the order the receiver will try them. */
/** Identities for a receiver and its senders, the senders in the order the receiver will try them. */
async function ids(senders: number): Promise<{ receiver: Identity; senders: Identity[] }> {
  const receiver = await generateIdentity();
  const others = await Promise.all(Array.from({ length: senders }, () => generateIdentity()));
  const order = orderSenders(
    receiver.peerId,
    'alpha',
    others.map((o) => o.peerId),
  );
  return { receiver, senders: order.map((id) => others.find((o) => o.peerId === id)!) };
}

const logs = (n: Node): LogLine[] =>
  n
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
const logged = (n: Node, msg: string) => logs(n).filter((l) => l.msg === msg);

const game = (n: Node, id = 'alpha') => getJson<Game>(n.url, `/api/games/${id}`);

async function seesSources(n: Node, count: number, id = 'alpha'): Promise<void> {
  await waitFor(async () => ((await game(n, id)).peers === count ? true : undefined), 15_000, `${count} sources of ${id}`);
}

async function streamInstall(n: Node, id = 'alpha'): Promise<void> {
  const res = await postJson(n.url, `/api/games/${id}/download`, { stream: true });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((res.body as Game).operation?.kind).toBe('stream-install');
}

const settled = (n: Node, id = 'alpha', timeoutMs = 60_000) =>
  waitFor(
    async () => {
      const g = await game(n, id);
      return g.operation === null ? g : undefined;
    },
    timeoutMs,
    `the streamed install of ${id} to end`,
  );

/** path → "size:crc32" for files, '' for folders. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[`${r}/`] = '';
        await walk(r);
      } else {
        const data = await fs.readFile(path.join(dir, r));
        out[r] = `${data.length}:${crc32(data).toString(16)}`;
      }
    }
  };
  await walk('');
  return out;
}

/** What the archives extract to, by the disk extractor in this process. */
async function extracted(...fixtures: string[]): Promise<Record<string, string>> {
  const dest = await tempDir();
  await new RarUnpacker({ checkFreeSpace: false }).extract(fixtures.map(rarFixture), dest);
  return tree(dest);
}

/** Every file name under `dir`, recursively. */
async function allNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) out.push(e.name);
  return out;
}

function vmHwmKiB(pid: number): Promise<number> {
  return fs.readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmHWM:\s+(\d+) kB/.exec(s)?.[1] ?? NaN));
}

async function fileCrc(file: string): Promise<number> {
  let crc = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) crc = crc32(chunk as Buffer, crc);
  return crc >>> 0;
}

describe('streamed installs between real nodes', () => {
  it('S1: installs from a peer, every file checked, and stores no archive', async () => {
    const archives = { 'alpha.eti': 'rar5_multiple_files.rar', 'extra/windows.rar': 'rar_windows.rar' };
    const s = await node({ archives });
    const r = await node({ peers: [s] });
    await seesSources(r, 1);
    await streamInstall(r);
    const done = await settled(r);
    expect(done).toMatchObject({ installed: true, downloaded: false, version: VERSION, lastError: null });
    const root = path.join(r.games, 'alpha');
    // local/ holds exactly what a local extraction of both archives (in path order) gives
    expect(await tree(path.join(root, 'local'))).toEqual(await extracted('rar5_multiple_files.rar', 'rar_windows.rar'));
    // and nothing else is in the game root: no archive, no sentinel, no staging or backup
    expect(await fs.readdir(root)).toEqual(['local']);
    expect((await allNames(root)).filter((n) => /\.(eti|rar)$/.test(n))).toEqual([]);
    await expect(fs.access(path.join(r.state, 'games', 'alpha', 'install_intent.json'))).rejects.toThrow();
    // one attempt, from that peer (CRC refusals are S2 and S6)
    expect(logged(r, 'streamed install finished').map((l) => [l.peerId, l.failedPeers])).toEqual([[s.peerId, 0]]);
    // the sender streamed everything once, and its transfer guard and worker are gone
    const sent = await waitFor(() => logged(s, 'stream-install send ended')[0], 5_000, 'the sender to finish');
    expect(sent).toMatchObject({ id: 'alpha', outcome: 'sent', bytes: 16_384 + 473, workerRunning: false, activeTransfers: 0 });
    const stats = await getJson<{ downloadedBytes: number }>(r.url, '/api/stats');
    expect(stats.downloadedBytes).toBe(16_384 + 473);
  });

  it('S2: a sender that corrupts data is refused by CRC and the next validated peer installs', async () => {
    const { receiver, senders } = await ids(2);
    const archives = { 'alpha.eti': 'rar5_solid.rar' };
    const liar = await node({ identity: senders[0]!, archives, env: { LANSPREAD_TEST_STREAM_CORRUPT: '1' } });
    const honest = await node({ identity: senders[1]!, archives });
    const r = await node({ identity: receiver, peers: [liar, honest] });
    await seesSources(r, 2);
    await streamInstall(r);
    const done = await settled(r);
    expect(done).toMatchObject({ installed: true, lastError: null });
    expect(await tree(path.join(r.games, 'alpha', 'local'))).toEqual(await extracted('rar5_solid.rar'));
    const failures = logged(r, 'streamed install from this peer failed; rolled back');
    expect(failures.map((f) => [f.peerId, f.code])).toEqual([[liar.peerId, 'stream_crc_mismatch']]);
    expect(logged(r, 'streamed install finished')[0]).toMatchObject({ peerId: honest.peerId, failedPeers: 1 });
    expect(await waitFor(() => logged(honest, 'stream-install send ended')[0], 5_000, 'the honest sender')).toMatchObject({
      outcome: 'sent',
      bytes: 25_776,
    });
  });

  it('S3: a cancel mid-stream stops the sender, releases its guard, and a second streamed install works at once', async () => {
    const s = await node({ archives: { 'alpha.eti': 'rar5_solid.rar' }, args: ['--upload-limit', '2048'] });
    const r = await node({ peers: [s] });
    await seesSources(r, 1);
    await streamInstall(r);
    const mid = await waitFor(
      async () => {
        const op = (await game(r)).operation;
        return op && op.bytesDone > 0 ? op : undefined;
      },
      15_000,
      'the first streamed bytes',
    );
    expect(mid.bytesDone).toBeLessThan(mid.bytesTotal);
    expect((await postJson(r.url, '/api/games/alpha/cancel')).status).toBe(202);
    const after = await settled(r, 'alpha', 10_000);
    expect(after).toMatchObject({ installed: false, lastError: null });
    await expect(fs.access(path.join(r.games, 'alpha'))).rejects.toThrow(); // the root it created is gone
    // the sender noticed: its producer stopped short, its worker exited, its guard is free

    const ended = await waitFor(() => logged(s, 'stream-install send ended')[0], 5_000, 'the sender to stop');
    expect(ended).toMatchObject({ id: 'alpha', outcome: 'cancelled', workerRunning: false, activeTransfers: 0 });
    expect(ended.bytes as number).toBeLessThan(25_776);
    // lift the limit and go again, right away, from the same sender
    const put = await fetch(new URL('/api/settings', s.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uploadLimit: 0 }),
    });
    expect(put.status).toBe(200);
    await streamInstall(r);
    const done = await settled(r, 'alpha', 20_000);
    expect(done).toMatchObject({ installed: true, lastError: null });
    expect(await tree(path.join(r.games, 'alpha', 'local'))).toEqual(await extracted('rar5_solid.rar'));
    expect(logged(r, 'streamed install from this peer failed; rolled back')).toEqual([]);
  });

  it('S4: a sender killed mid-stream: the receiver moves on to the next validated peer', async () => {
    const { receiver, senders } = await ids(2);
    const archives = { 'alpha.eti': 'rar5_solid.rar' };
    const doomed = await node({ identity: senders[0]!, archives, args: ['--upload-limit', '2048'] });
    const survivor = await node({ identity: senders[1]!, archives });
    const r = await node({ identity: receiver, peers: [doomed, survivor] });
    await seesSources(r, 2);
    await streamInstall(r);
    await waitFor(
      async () => {
        const op = (await game(r)).operation;
        return op && op.bytesDone > 0 && op.bytesDone < op.bytesTotal ? op : undefined;
      },
      15_000,
      'bytes from the first sender',
    );
    await doomed.stop('SIGKILL');
    const done = await settled(r, 'alpha', 30_000);
    expect(done).toMatchObject({ installed: true, lastError: null });
    expect(await tree(path.join(r.games, 'alpha', 'local'))).toEqual(await extracted('rar5_solid.rar'));
    const failures = logged(r, 'streamed install from this peer failed; rolled back');
    expect(failures.map((f) => f.peerId)).toEqual([doomed.peerId]);
    expect(logged(r, 'streamed install finished')[0]).toMatchObject({ peerId: survivor.peerId, failedPeers: 1 });
    expect(await fs.readdir(path.join(r.games, 'alpha'))).toEqual(['local']);
  });

  it('S5: a failed attempt rolls back; a root it created goes, a root that was there stays', async () => {
    const s = await node({ archives: { 'alpha.eti': 'rar5_multiple_files.rar' }, env: { LANSPREAD_TEST_STREAM_CORRUPT: '1' } });
    const r = await node({ peers: [s] });
    await fs.mkdir(path.join(r.games, 'bravo')); // bravo's root exists (empty) before; alpha's does not
    await seesSources(r, 1, 'alpha');
    await seesSources(r, 1, 'bravo');
    for (const id of ['alpha', 'bravo']) {
      await streamInstall(r, id);
      const g = await settled(r, id);
      expect(g).toMatchObject({ installed: false, lastError: { code: 'stream_crc_mismatch' } });
      await expect(fs.access(path.join(r.state, 'games', id, 'install_intent.json'))).rejects.toThrow();
    }
    await expect(fs.access(path.join(r.games, 'alpha'))).rejects.toThrow();
    expect(await fs.readdir(path.join(r.games, 'bravo'))).toEqual([]);
    expect((await fs.readdir(r.games)).sort()).toEqual(['bravo']);
    expect(logged(r, 'removed the empty game folder this attempt created').map((l) => l.id)).toEqual(['alpha']);
  });

  it('S7: memory stays bounded on both sides while 230 MiB stream through', async () => {
    const s = await node({ archives: { 'alpha.eti': 'rar_ppmd_lzss_conversion.rar' } });
    const r = await node({ peers: [s] });
    await seesSources(r, 1);
    const before = { sender: await vmHwmKiB(s.pid), receiver: await vmHwmKiB(r.pid) };
    const t0 = performance.now();
    await streamInstall(r);
    const done = await settled(r, 'alpha', 90_000);
    const seconds = (performance.now() - t0) / 1000;
    expect(done).toMatchObject({ installed: true, lastError: null });
    const after = { sender: await vmHwmKiB(s.pid), receiver: await vmHwmKiB(r.pid) };
    const file = path.join(r.games, 'alpha', 'local', 'ppmd_lzss_conversion_test.txt');
    expect((await fs.stat(file)).size).toBe(241_647_978);
    const source = openFileSource(rarFixture('rar_ppmd_lzss_conversion.rar'));
    const header = scanRarArchive(source).entries[0]!;
    source.close();
    expect(await fileCrc(file)).toBe(header.crc32);
    const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
    console.log(
      `S7: 230.5 MiB in ${seconds.toFixed(1)} s (${(230.5 / seconds).toFixed(1)} MiB/s); VmHWM before/after: sender ${mib(before.sender)}/${mib(after.sender)} MiB, receiver ${mib(before.receiver)}/${mib(after.receiver)} MiB`,
    );
    expect(after.sender).toBeLessThan(250 * 1024);
    expect(after.receiver).toBeLessThan(250 * 1024);
  }, 120_000);
});
