// The receiver's frame handling (server/runtime/stream-install/receiver.ts)
// against hand-made frame sequences from a fake sender on the in-memory
// transport: the CRC rules of SPEC section 6 (a zero-byte file with no CRC is
// taken as 00000000, a non-empty one with no CRC is refused), CRC mismatches,
// sizes, totals, unsafe paths, truncation and the sender's Error frame.
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StreamFrameKind, type StreamControl, type WireAnswer } from '../../../shared/wire.js';
import { encodeControl, encodeData } from '../../../server/runtime/stream-install/frames.js';
import { receiveStreamInstall } from '../../../server/runtime/stream-install/receiver.js';
import { readMessage, writeMessage } from '../../../server/runtime/transport/framing.js';
import { MemoryNetwork, MemoryTransport } from '../../../server/runtime/transport/memory-transport.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** a control frame, data (framed), bytes written as they are, or the end of the stream without an End frame */
type Step = StreamControl | Buffer | { raw: Buffer } | 'raw-end';

const hex = (b: Buffer) => (crc32(b) >>> 0).toString(16).padStart(8, '0');
const file = (p: string, content: Buffer, crc: string | null = hex(content)): Step[] => [
  { type: 'File', path: p, size: content.length, crc32: crc },
  ...(content.length > 0 ? [content] : []),
  { type: 'FileEnd' },
];

/** A sender that answers StreamBegin (as given) then writes `steps` as frames; returns what the receiver did. */
async function exchange(begin: WireAnswer, steps: Step[]) {
  const net = new MemoryNetwork();
  const sender = new MemoryTransport({ network: net, port: 1 });
  const receiver = new MemoryTransport({ network: net });
  onTestFinished(async () => {
    await receiver.close();
    await sender.close();
  });
  const requests: unknown[] = [];
  sender.onConnection((c) =>
    c.onStream(async (s) => {
      s.on('error', () => undefined);
      requests.push(await readMessage(s));
      await writeMessage(s, begin);
      for (const step of steps) {
        if (step === 'raw-end') break;
        s.write(Buffer.isBuffer(step) ? encodeData(step) : 'raw' in step ? step.raw : encodeControl(step));
      }
      s.end();
    }),
  );
  await sender.listen();
  const connection = await receiver.connect({ host: 'memory', port: 1 });
  const dest = await tempDir();
  const outcome = await receiveStreamInstall(connection, 'alpha', dest, { expectVersion: '20240101' }).then(
    (result) => ({ ok: true as const, result }),
    (error: { code?: string; message: string }) => ({ ok: false as const, code: error.code, message: error.message }),
  );
  return { outcome, dest, requests };
}

const begin = (files: number, bytes: number, dirs = 0): WireAnswer => ({
  type: 'StreamBegin',
  id: 'alpha',
  eti_version: '20240101',
  files,
  dirs,
  bytes_total: bytes,
});
const end = (files: number, bytes: number, dirs = 0): StreamControl => ({ type: 'End', files, dirs, bytes });

describe('streamed-install receiver: frames', () => {
  it('writes files and folders, checking every CRC; a zero-byte file with no CRC counts as 00000000', async () => {
    const a = Buffer.from('hello world');
    const b = Buffer.alloc(200_000, 7);
    const { outcome, dest, requests } = await exchange(begin(3, a.length + b.length, 1), [
      { type: 'Dir', path: 'empty/dir' },
      ...file('a.txt', a),
      ...file('sub/empty.bin', Buffer.alloc(0), null),
      { type: 'File', path: 'sub/b.bin', size: b.length, crc32: hex(b) },
      b.subarray(0, 65_536),
      b.subarray(65_536),
      { type: 'FileEnd' },
      end(3, a.length + b.length, 1),
    ]);
    expect(requests).toEqual([{ type: 'StreamInstall', id: 'alpha' }]);
    expect(outcome).toEqual({ ok: true, result: { files: 3, dirs: 1, bytes: a.length + b.length } });
    expect(await fs.readFile(path.join(dest, 'a.txt'))).toEqual(a);
    expect(await fs.readFile(path.join(dest, 'sub', 'b.bin'))).toEqual(b);
    expect((await fs.stat(path.join(dest, 'sub', 'empty.bin'))).size).toBe(0);
    expect((await fs.stat(path.join(dest, 'empty', 'dir'))).isDirectory()).toBe(true);
  });

  it('a zero-byte file announced with CRC 00000000 is accepted, with any other CRC refused', async () => {
    const ok = await exchange(begin(1, 0), [...file('e', Buffer.alloc(0), '00000000'), end(1, 0)]);
    expect(ok.outcome.ok).toBe(true);
    const bad = await exchange(begin(1, 0), [...file('e', Buffer.alloc(0), '12345678'), end(1, 0)]);
    expect(bad.outcome).toMatchObject({ ok: false, code: 'stream_crc_mismatch' });
  });

  it('refuses a non-empty file that comes with no CRC, before writing it', async () => {
    const { outcome, dest } = await exchange(begin(1, 3), [...file('x.bin', Buffer.from('abc'), null), end(1, 3)]);
    expect(outcome).toMatchObject({ ok: false, code: 'stream_crc_missing' });
    await expect(fs.access(path.join(dest, 'x.bin'))).rejects.toThrow();
  });

  it('refuses bytes that do not match the announced CRC', async () => {
    const content = Buffer.from('the real content');
    const flipped = Buffer.from(content);
    flipped[0]! ^= 0xff;
    const { outcome } = await exchange(begin(1, content.length), [
      { type: 'File', path: 'x', size: content.length, crc32: hex(content) },
      flipped,
      { type: 'FileEnd' },
      end(1, content.length),
    ]);
    expect(outcome).toMatchObject({ ok: false, code: 'stream_crc_mismatch' });
  });

  it.each<[string, Step[], WireAnswer]>([
    // each sequence is complete (End included) unless the missing part is the point
    [
      'more bytes than the file declares',
      [{ type: 'File', path: 'x', size: 2, crc32: '00000000' }, Buffer.from('abc'), { type: 'FileEnd' }, end(1, 3)],
      begin(1, 3),
    ],
    [
      'fewer bytes than the file declares',
      [{ type: 'File', path: 'x', size: 4, crc32: hex(Buffer.from('abc')) }, Buffer.from('abc'), { type: 'FileEnd' }, end(1, 3)],
      begin(1, 4),
    ],
    ['more bytes than StreamBegin announced', [...file('x', Buffer.from('abcdef')), end(1, 6)], begin(1, 3)],
    ['End totals that differ from what arrived', [...file('x', Buffer.from('abc')), end(2, 3)], begin(1, 3)],
    ['End totals that differ from StreamBegin', [...file('x', Buffer.from('abc')), end(1, 3)], begin(2, 3)],
    ['data outside a file', [Buffer.from('abc'), end(0, 3)], begin(0, 3)],
    [
      'a File inside a file',
      [{ type: 'File', path: 'x', size: 0, crc32: null }, ...file('y', Buffer.alloc(0)), { type: 'FileEnd' }, end(2, 0)],
      begin(2, 0),
    ],
    ['a parent reference', [...file('../evil', Buffer.from('abc')), end(1, 3)], begin(1, 3)],
    ['an absolute path', [...file('/tmp/evil', Buffer.from('abc')), end(1, 3)], begin(1, 3)],
    ['a non-canonical path', [...file('a//b', Buffer.from('abc')), end(1, 3)], begin(1, 3)],
    ['a path that is a file and a folder', [...file('a', Buffer.from('x')), ...file('a/b', Buffer.from('y')), end(2, 2)], begin(2, 2)],
    ['a stream that ends before End', [...file('x', Buffer.from('abc')), 'raw-end'], begin(1, 3)],
    ['a truncated stream mid-file', [{ type: 'File', path: 'x', size: 3, crc32: hex(Buffer.from('abc')) }, Buffer.from('ab')], begin(1, 3)],
    ['an unknown control frame', [{ type: 'Bogus' } as unknown as StreamControl, end(0, 0)], begin(0, 0)],
  ])('refuses %s (stream_protocol)', async (_what, steps, b) => {
    const { outcome, dest } = await exchange(b, steps);
    expect(outcome).toMatchObject({ ok: false, code: 'stream_protocol' });
    await expect(fs.access(path.join(path.dirname(dest), 'evil'))).rejects.toThrow();
  });

  it("passes the sender's Error frame on with its code", async () => {
    const { outcome } = await exchange(begin(1, 3), [
      { type: 'File', path: 'x', size: 3, crc32: '00000000' },
      { type: 'Error', code: 'archive_damaged', message: 'archive "alpha.eti" is damaged' },
    ]);
    expect(outcome).toMatchObject({ ok: false, code: 'archive_damaged' });
    expect(outcome.ok === false && outcome.message).toContain('is damaged');
  });

  it('refuses a sender that streams another version than the validated one', async () => {
    const { outcome } = await exchange({ ...begin(0, 0), eti_version: '20990101' } as WireAnswer, [end(0, 0)]);
    expect(outcome).toMatchObject({ ok: false, code: 'stream_version_mismatch' });
  });

  it('refuses a frame of an unknown kind', async () => {
    const { outcome } = await exchange(begin(0, 0), [{ raw: Buffer.from([StreamFrameKind.Data + 5, 0, 0, 0, 1, 0]) }]);
    // the message tells it from the frame being read as a control frame (not JSON either)
    expect(outcome).toMatchObject({ ok: false, code: 'stream_protocol', message: expect.stringContaining('unknown frame kind') });
  });
});
