import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeFrame, endWithMessage, readExactly, readMessage, writeMessage } from '../../../server/runtime/transport/framing.js';
import { MemoryNetwork, MemoryTransport } from '../../../server/runtime/transport/memory-transport.js';
import { readAll } from './helpers.js';

function header(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** A readable that yields `data` one byte per chunk, asynchronously. */
function trickle(data: Buffer): Readable {
  return Readable.from(
    (async function* () {
      for (const byte of data) {
        await new Promise((r) => setImmediate(r));
        yield Buffer.from([byte]);
      }
    })(),
    { objectMode: false },
  );
}

describe('framing', () => {
  it('round-trips a sequence of messages and leaves the raw tail in the stream', async () => {
    const s = new PassThrough();
    const messages = [{ type: 'Hello', peer_id: 'a', n: 1 }, { type: 'Ping' }, ['x', 2, null], 'ünïcödé ✓', 0];
    for (const m of messages) await writeMessage(s, m);
    s.end(Buffer.from('RAW FILE BYTES'));
    for (const m of messages) expect(await readMessage(s)).toEqual(m);
    expect((await readAll(s)).toString()).toBe('RAW FILE BYTES');
  });

  it('reads frames split into single bytes', async () => {
    const frames = Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ b: 'two' }), Buffer.from('tail')]);
    const s = trickle(frames);
    expect(await readMessage(s)).toEqual({ a: 1 });
    expect(await readMessage(s)).toEqual({ b: 'two' });
    expect((await readExactly(s, 4)).toString()).toBe('tail');
  });

  it('hands the rest over as raw bytes on a transport stream', async () => {
    const network = new MemoryNetwork();
    const server = new MemoryTransport({ network });
    const client = new MemoryTransport({ network });
    server.onConnection((c) =>
      c.onStream(async (s) => {
        const req = (await readMessage(s)) as { path: string };
        await writeMessage(s, { ok: true, path: req.path, size: 5 });
        s.end(Buffer.from([1, 2, 3, 4, 5]));
      }),
    );
    const conn = await client.connect(await server.listen());
    const s = await conn.openStream();
    await endWithMessage(s, { type: 'GetGameFileData', path: 'a.eti' });
    expect(await readMessage(s)).toEqual({ ok: true, path: 'a.eti', size: 5 });
    const rest: Buffer[] = [];
    for await (const c of s) rest.push(c as Buffer);
    expect([...Buffer.concat(rest)]).toEqual([1, 2, 3, 4, 5]);
    await client.close();
    await server.close();
  });

  it('refuses to write a frame over the limit, writing nothing', async () => {
    const s = new PassThrough();
    await expect(writeMessage(s, { blob: 'x'.repeat(2000) }, { maxBytes: 1024 })).rejects.toMatchObject({
      code: 'frame_too_large',
    });
    expect(s.readableLength).toBe(0);
    await writeMessage(s, { blob: 'x'.repeat(1000) }, { maxBytes: 1024 });
    expect(s.readableLength).toBeGreaterThan(1000);
  });

  it('refuses an oversized frame from its header alone, without waiting for the body', async () => {
    const s = new PassThrough();
    s.write(header(2 * 1024 * 1024)); // body never comes, stream stays open
    await expect(readMessage(s)).rejects.toMatchObject({ code: 'frame_too_large', size: 2 * 1024 * 1024 });
    const t = new PassThrough();
    t.write(header(1025));
    await expect(readMessage(t, { maxBytes: 1024 })).rejects.toMatchObject({ code: 'frame_too_large' });
  });

  it('reports truncation inside the header and inside the body', async () => {
    const a = new PassThrough();
    a.end(Buffer.from([0, 0]));
    await expect(readMessage(a)).rejects.toMatchObject({ code: 'frame_truncated', expected: 4, got: 2 });
    const b = new PassThrough();
    b.end(Buffer.concat([header(10), Buffer.from('{"a":')]));
    await expect(readMessage(b)).rejects.toMatchObject({ code: 'frame_truncated', expected: 10, got: 5 });
  });

  it('reports a clean end before any frame as end_of_stream', async () => {
    const s = new PassThrough();
    s.end();
    await expect(readMessage(s)).rejects.toMatchObject({ code: 'end_of_stream' });
    const t = new PassThrough();
    t.end(encodeFrame({ last: true }));
    expect(await readMessage(t)).toEqual({ last: true });
    await expect(readMessage(t)).rejects.toMatchObject({ code: 'end_of_stream' });
  });

  it('rejects garbage: not JSON, not UTF-8, empty body', async () => {
    const cases = [
      Buffer.concat([header(5), Buffer.from('hello')]),
      Buffer.concat([header(3), Buffer.from([0x22, 0xff, 0x22])]), // a JSON string holding a byte that is not UTF-8
      header(0),
    ];
    for (const bytes of cases) {
      const s = new PassThrough();
      s.end(bytes);
      await expect(readMessage(s)).rejects.toMatchObject({ code: 'frame_malformed' });
    }
    expect(() => encodeFrame(undefined)).toThrow(expect.objectContaining({ code: 'frame_malformed' }));
  });

  it('passes on the stream error', async () => {
    const s = new PassThrough();
    s.write(header(10));
    setTimeout(() => s.destroy(Object.assign(new Error('boom'), { code: 'stream_reset' })), 10);
    await expect(readMessage(s)).rejects.toMatchObject({ code: 'stream_reset' });
  });
});
