// What a node serves to peers, through the real protocol server: only
// downloaded catalog games, only regular files inside their root.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../server/runtime/transport/memory-transport.js';
import { writeMessage, encodeFrame } from '../../../server/runtime/transport/framing.js';
import { makeGame, tempDir } from '../../helpers/temp-dir.js';
import { rawClient, rawRequest, startMemoryNode } from '../../helpers/peers.js';

async function servingNode() {
  const net = new MemoryNetwork();
  const gameDir = await tempDir();
  const outside = await tempDir();
  await fs.writeFile(path.join(outside, 'secret.txt'), 'top secret');
  const root = await makeGame(gameDir, 'alpha', {
    version: '20240101',
    installed: true,
    files: {
      'alpha.eti': 'archive-bytes-0123456789',
      'sub/part2.eti': 'part two',
      'local/save.dat': 'installed save',
      '.local.installing/x': 'staging',
      '.local.backup/y': 'backup',
      '.version.ini.tmp': 'tmp',
      '.version.ini.discarded': 'old',
    },
  });
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'link-out.eti'));
  await fs.symlink(outside, path.join(root, 'dir-out'));
  await makeGame(gameDir, 'bravo', { files: { 'bravo.eti': 'not downloaded yet' } }); // no sentinel
  await makeGame(gameDir, 'zulu', { version: '1', files: { 'zulu.eti': 'not in the catalog' } });
  await startMemoryNode({ net, port: 7000, gameDir });
  const conn = await rawClient(net, 7000);
  return { conn, root };
}

describe('serving files to peers', () => {
  it('serves a whole file and a chunk of a downloaded catalog game', async () => {
    const { conn } = await servingNode();
    const whole = await rawRequest(conn, { type: 'GetGameFileData', id: 'alpha', path: 'alpha.eti' });
    expect(whole.answer).toEqual({ type: 'FileData', size: 24, offset: 0, length: 24 });
    expect(whole.bytes.toString()).toBe('archive-bytes-0123456789');
    const chunk = await rawRequest(conn, { type: 'GetGameFileChunk', id: 'alpha', path: 'sub/part2.eti', offset: 5, length: 3 });
    expect(chunk.answer).toMatchObject({ type: 'FileData', offset: 5, length: 3 });
    expect(chunk.bytes.toString()).toBe('two');
  });

  it('lists only the payload in GetGame, and only catalog games in ListGames', async () => {
    const { conn } = await servingNode();
    const files = await rawRequest(conn, { type: 'GetGame', id: 'alpha' });
    expect(files.answer).toMatchObject({ type: 'GameFiles', id: 'alpha', eti_version: '20240101' });
    const paths = (files.answer as { files: { path: string }[] }).files.map((f) => f.path);
    expect(paths).toEqual(['sub', 'alpha.eti', 'sub/part2.eti', 'version.ini']);
    const list = await rawRequest(conn, { type: 'ListGames' });
    expect((list.answer as { games: { id: string }[] }).games.map((g) => g.id)).toEqual(['alpha']);
  });

  const refusals: [string, Record<string, unknown>, string][] = [
    ['.. out of the root', { id: 'alpha', path: '../bravo/bravo.eti' }, 'not_served'],
    ['.. inside the path', { id: 'alpha', path: 'sub/../../zulu/zulu.eti' }, 'not_served'],
    ['an absolute path', { id: 'alpha', path: '/etc/passwd' }, 'not_served'],
    ['a backslash path', { id: 'alpha', path: '..\\..\\etc\\passwd' }, 'not_served'],
    ['a symlink leading out', { id: 'alpha', path: 'link-out.eti' }, 'not_served'],
    ['a path through a symlinked folder', { id: 'alpha', path: 'dir-out/secret.txt' }, 'not_served'],
    ['local/', { id: 'alpha', path: 'local/save.dat' }, 'not_served'],
    ['.local.installing/', { id: 'alpha', path: '.local.installing/x' }, 'not_served'],
    ['.local.backup/', { id: 'alpha', path: '.local.backup/y' }, 'not_served'],
    ['a temp sentinel', { id: 'alpha', path: '.version.ini.tmp' }, 'not_served'],
    ['a folder', { id: 'alpha', path: 'sub' }, 'not_served'],
    ['a game that is not downloaded', { id: 'bravo', path: 'bravo.eti' }, 'not_served'],
    ['a game not in the catalog', { id: 'zulu', path: 'zulu.eti' }, 'not_served'],
    ['a missing file', { id: 'alpha', path: 'nope.eti' }, 'not_found'],
  ];

  it.each(refusals)('refuses %s with an error answer and keeps the connection usable', async (_what, req, code) => {
    const { conn } = await servingNode();
    const refused = await rawRequest(conn, { type: 'GetGameFileData', ...req });
    expect(refused.answer).toMatchObject({ type: 'Error', code });
    expect(refused.bytes.length).toBe(0);
    const after = await rawRequest(conn, { type: 'GetGameFileData', id: 'alpha', path: 'alpha.eti' });
    expect(after.bytes.toString()).toBe('archive-bytes-0123456789');
  });

  it('checks the sentinel on every request, not as of the last scan', async () => {
    const { conn, root } = await servingNode();
    await fs.rm(path.join(root, 'version.ini'));
    // at once, before the watcher's rescan could have noticed
    const refused = await rawRequest(conn, { type: 'GetGameFileData', id: 'alpha', path: 'alpha.eti' });
    expect(refused.answer).toMatchObject({ type: 'Error', code: 'not_served' });
  });

  it('refuses a range outside the file, and file lists of games it does not serve', async () => {
    const { conn } = await servingNode();
    const range = await rawRequest(conn, { type: 'GetGameFileChunk', id: 'alpha', path: 'alpha.eti', offset: 20, length: 10 });
    expect(range.answer).toMatchObject({ type: 'Error', code: 'out_of_range' });
    expect((await rawRequest(conn, { type: 'GetGame', id: 'bravo' })).answer).toMatchObject({ type: 'Error', code: 'not_served' });
  });

  it('answers garbage, unknown and oversized requests with errors, and keeps serving', async () => {
    const { conn } = await servingNode();
    expect((await rawRequest(conn, { type: 'Launch', id: 'alpha' })).answer).toMatchObject({ type: 'Error', code: 'bad_request' });
    expect((await rawRequest(conn, 42)).answer).toMatchObject({ type: 'Error', code: 'bad_request' });
    // raw garbage: a valid length prefix with a non-JSON body
    const s1 = await conn.openStream();
    const body = Buffer.from('this is not json');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    s1.end(Buffer.concat([header, body]));
    const { readMessage } = await import('../../../server/runtime/transport/framing.js');
    expect(await readMessage(s1)).toMatchObject({ type: 'Error', code: 'bad_request' });
    // a declared length far over the limit is refused before the body is read
    const s2 = await conn.openStream();
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(0x7fffffff);
    s2.write(huge);
    expect(await readMessage(s2)).toMatchObject({ type: 'Error', code: 'bad_request' });
    s2.destroy();
    // a frame cut short
    const s3 = await conn.openStream();
    s3.end(encodeFrame({ type: 'Ping' }).subarray(0, 6));
    expect(await readMessage(s3)).toMatchObject({ type: 'Error' });
    expect((await rawRequest(conn, { type: 'Ping' })).answer).toMatchObject({ type: 'Pong' });
    void writeMessage;
  });
});
