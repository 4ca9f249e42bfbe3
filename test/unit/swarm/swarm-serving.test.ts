// What a node in a swarm serves, asked by a raw client over the in-memory
// transport: a player mid-download answers only for the chunks it has
// verified, only on its own manifest, never version.ini before the commit; a
// SwarmHave gets its have-set back; chunk uploads are bounded.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { WireAnswerOf } from '../../../shared/wire.js';
import { Bitfield } from '../../../server/runtime/swarm/bitfield.js';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { identity, rawClient, rawRequest, startMemoryNode } from '../../helpers/peers.js';
import { makeGame, tempDir, waitFor } from '../../helpers/temp-dir.js';

const CHUNK = 64 * 1024;
const NOTHING = { type: 'SwarmHave', id: 'alpha', manifest: null, chunks: 0, have: '', bytes_have: 0, bytes_total: 0 } as const;

async function seedAndPlayer(seedUploadLimit: number) {
  const net = new MemoryNetwork();
  const payload = randomBytes(32 * CHUNK);
  const games = await tempDir();
  await makeGame(games, 'alpha', { version: '20240101', files: { 'alpha.eti': payload } });
  await startMemoryNode({ net, port: 501, gameDir: games, uploadLimit: seedUploadLimit });
  const player = await startMemoryNode({ net, port: 502, peers: [501] });
  await waitFor(() => (player.runtime.games().find((g) => g.id === 'alpha')?.peers === 1 ? true : undefined), 3_000, 'source');
  return { net, payload, player };
}

describe('swarm serving (in-memory transport)', () => {
  it('a player mid-download serves its verified chunks on its manifest, and nothing else', async () => {
    const { net, payload, player } = await seedAndPlayer(256 * 1024); // 2 MiB at 256 KiB/s: 8 s to watch
    await player.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    const conn = await rawClient(net, 502, await identity(0));
    // its have-set comes back for a SwarmHave; wait until a few chunks are verified
    const state = await waitFor(
      async () => {
        const { answer } = await rawRequest(conn, NOTHING);
        const s = answer as WireAnswerOf<'SwarmState'>;
        return s.manifest && Bitfield.fromBase64(s.have, s.chunks)!.count >= 3 ? s : undefined;
      },
      5_000,
      'three verified chunks',
    );
    expect(state.bytes_total).toBe(payload.length + '20240101\n'.length);
    const bits = Bitfield.fromBase64(state.have, state.chunks)!;
    // alpha.eti comes first: manifest chunk i is its bytes [i·CHUNK, (i+1)·CHUNK)
    const have = [...Array(32).keys()].find((i) => bits.has(i))!;
    const lacks = [...Array(32).keys()].find((i) => !bits.has(i))!;
    const ask = (i: number, manifest = state.manifest!) =>
      rawRequest(conn, { type: 'GetGameFileChunk', id: 'alpha', path: 'alpha.eti', offset: i * CHUNK, length: CHUNK, manifest });

    const served = await ask(have);
    expect(served.answer.type).toBe('FileData');
    expect(Buffer.compare(served.bytes, payload.subarray(have * CHUNK, (have + 1) * CHUNK))).toBe(0);
    expect((await ask(lacks)).answer).toMatchObject({ type: 'Error', code: 'chunk_unavailable' });
    expect((await ask(have, 'f'.repeat(32))).answer).toMatchObject({ type: 'Error', code: 'wrong_manifest' });
    // version.ini (the last chunk of the manifest) is held in memory until the commit: never served before
    expect(bits.has(state.chunks - 1)).toBe(false);
    const sentinel = await rawRequest(conn, {
      type: 'GetGameFileChunk',
      id: 'alpha',
      path: 'version.ini',
      offset: 0,
      length: 9,
      manifest: state.manifest,
    });
    expect(sentinel.answer).toMatchObject({ type: 'Error', code: 'chunk_unavailable' });
    // without a manifest, a game that is not downloaded is not served at all
    const plain = await rawRequest(conn, { type: 'GetGameFileChunk', id: 'alpha', path: 'alpha.eti', offset: have * CHUNK, length: CHUNK });
    expect(plain.answer).toMatchObject({ type: 'Error', code: 'not_served' });
  });

  it('a cancelled download is no longer announced or served', async () => {
    const { net, player } = await seedAndPlayer(256 * 1024);
    await player.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    const conn = await rawClient(net, 502, await identity(1));
    const state = await waitFor(
      async () => {
        const s = (await rawRequest(conn, NOTHING)).answer as WireAnswerOf<'SwarmState'>;
        return s.manifest && Bitfield.fromBase64(s.have, s.chunks)!.count >= 1 ? s : undefined;
      },
      5_000,
      'a verified chunk',
    );
    const have = [...Array(32).keys()].find((i) => Bitfield.fromBase64(state.have, state.chunks)!.has(i))!;
    await player.runtime.execute({ type: 'CancelDownload', id: 'alpha' });
    await waitFor(() => (player.runtime.games().find((g) => g.id === 'alpha')?.operation ? undefined : true), 5_000, 'cancelled');
    expect((await rawRequest(conn, NOTHING)).answer).toMatchObject({ type: 'SwarmState', manifest: null });
    const asked = await rawRequest(conn, {
      type: 'GetGameFileChunk',
      id: 'alpha',
      path: 'alpha.eti',
      offset: have * CHUNK,
      length: CHUNK,
      manifest: state.manifest,
    });
    expect(asked.answer).toMatchObject({ type: 'Error', code: 'wrong_manifest' });
  });

  it('a restarted player announces at once the chunks it had verified; a finished one all of them, until it removes the game', async () => {
    const { net, player } = await seedAndPlayer(256 * 1024);
    await player.runtime.execute({ type: 'GetGame', id: 'alpha', install: false });
    const conn = await rawClient(net, 502, await identity(3));
    const haveOf = async () => {
      const s = (await rawRequest(conn, NOTHING)).answer as WireAnswerOf<'SwarmState'>;
      return s.manifest ? Bitfield.fromBase64(s.have, s.chunks)!.count : 0;
    };
    await waitFor(async () => ((await haveOf()) >= 4 ? true : undefined), 5_000, 'four verified chunks');
    await player.runtime.close(); // a shutdown: the download resumes after the restart
    const before = 4;
    const again = await startMemoryNode({ net, port: 502, peers: [501], gameDir: player.gameDir, stateDir: player.stateDir });
    const conn2 = await rawClient(net, 502, await identity(3));
    const first = await waitFor(
      async () => {
        const s = (await rawRequest(conn2, NOTHING)).answer as WireAnswerOf<'SwarmState'>;
        return s.manifest ? Bitfield.fromBase64(s.have, s.chunks)!.count : undefined;
      },
      5_000,
      'the resumed download announced',
    );
    expect(first).toBeGreaterThanOrEqual(before);
    await waitFor(() => (again.runtime.games().find((g) => g.id === 'alpha')?.downloaded ? true : undefined), 20_000, 'finished');
    const done = (await rawRequest(conn2, NOTHING)).answer as WireAnswerOf<'SwarmState'>;
    expect(done.bytes_have).toBe(done.bytes_total);
    await again.runtime.execute({ type: 'RemoveDownloadedGame', id: 'alpha' });
    await waitFor(
      async () => (((await rawRequest(conn2, NOTHING)).answer as WireAnswerOf<'SwarmState'>).manifest === null ? true : undefined),
      5_000,
      'no longer announced once removed',
    );
  });

  it('chunk uploads are bounded: the ninth request at once is answered busy', async () => {
    const net = new MemoryNetwork();
    const games = await tempDir();
    await makeGame(games, 'alpha', { version: '20240101', files: { 'alpha.eti': randomBytes(16 * CHUNK) } });
    const seed = await startMemoryNode({ net, port: 511, gameDir: games, uploadLimit: 1 }); // every upload stalls
    await waitFor(() => (seed.runtime.games().find((g) => g.id === 'alpha')?.downloaded ? true : undefined), 3_000, 'scanned');
    const conn = await rawClient(net, 511, await identity(2));
    const ask = (i: number) =>
      rawRequest(conn, { type: 'GetGameFileChunk', id: 'alpha', path: 'alpha.eti', offset: i * CHUNK, length: CHUNK });
    const stalled = [...Array(8).keys()].map((i) => ask(i));
    stalled.forEach((p) => p.catch(() => undefined));
    await new Promise((r) => setTimeout(r, 1_000)); // the eight reach the node and wait on the limit (a ninth served instead would stall: a failure, never a pass)
    expect((await ask(8)).answer).toMatchObject({ type: 'Error', code: 'busy' });
    await seed.runtime.updateSettings({ uploadLimit: 0 });
    const done = await Promise.all(stalled);
    expect(done.every((d) => d.answer.type === 'FileData' && d.bytes.length === CHUNK)).toBe(true);
    // once their slots are released (the node frees a slot just after the last byte), the ninth is served
    await waitFor(async () => ((await ask(8)).answer.type === 'FileData' ? true : undefined), 5_000, 'the ninth served');
  });
});
