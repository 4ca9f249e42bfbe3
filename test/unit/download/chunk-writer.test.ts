import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChunkWriter } from '../../../server/runtime/download/chunk-writer.js';
import { tempDir } from '../../helpers/temp-dir.js';

describe('ChunkWriter', () => {
  it('writes pieces at their offset in batches, without touching the bytes around them', async () => {
    const file = path.join(await tempDir(), 'f');
    await fs.writeFile(file, Buffer.alloc(100, 0xee));
    const handle = await fs.open(file, 'r+');
    const writes: number[] = [];
    const spy = { writev: async (b: Buffer[], p: number) => (writes.push(p), handle.writev(b, p)) } as unknown as fs.FileHandle;
    const w = new ChunkWriter({ handle: spy, memory: null }, 10, 16);
    const data = randomBytes(40);
    for (let i = 0; i < 40; i += 8) await w.add(data.subarray(i, i + 8));
    await w.flush();
    await handle.close();
    const out = await fs.readFile(file);
    expect(out.subarray(10, 50).equals(data)).toBe(true);
    expect(out.subarray(0, 10).every((b) => b === 0xee) && out.subarray(50).every((b) => b === 0xee)).toBe(true);
    expect(writes).toEqual([10, 26, 42]); // 16 + 16 + 8 bytes: batched, not one write per piece
  });

  it('finishes a short write', async () => {
    const got: Buffer[] = [];
    let calls = 0;
    const shortWriter = {
      writev: async (buffers: Buffer[]) => {
        calls++;
        const all = Buffer.concat(buffers);
        const n = Math.min(5, all.length); // the OS takes only 5 bytes at a time
        got.push(all.subarray(0, n));
        return { bytesWritten: n, buffers };
      },
    } as unknown as fs.FileHandle;
    const w = new ChunkWriter({ handle: shortWriter, memory: null }, 0, 1024);
    await w.add(Buffer.from('hello '));
    await w.add(Buffer.from('world!'));
    await w.flush();
    expect(Buffer.concat(got).toString()).toBe('hello world!');
    expect(calls).toBe(3);
  });

  it('fills a memory target (version.ini) directly', async () => {
    const memory = Buffer.alloc(9);
    const w = new ChunkWriter({ handle: null, memory }, 0);
    await w.add(Buffer.from('2024'));
    await w.add(Buffer.from('0601\n'));
    await w.flush();
    expect(memory.toString()).toBe('20240601\n');
  });
});
