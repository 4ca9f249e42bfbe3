// How files are cut into chunks. One chunk is one request on its own stream and
// the unit of verification, retry, resume and swarm trading. Its size grows
// with the file (docs/SWARM.md, "Chunk size"): a file has about 256 chunks, so
// players have verified chunks to trade within the first seconds of a swarm,
// with chunks no smaller than 256 KiB (request overhead) and no larger than
// 16 MiB (so a 50 GB game's file list and have-sets stay small). Single-source
// speed comes from the requests in flight per source (docs/DOWNLOADS.md).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';

export const MIN_CHUNK_SIZE = 256 * 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** Chunks per file the size grows to stay under (until MAX_CHUNK_SIZE). */
const CHUNKS_PER_FILE = 256;

/** The chunk size a file of `size` bytes is hashed and fetched with. */
export function chunkSizeFor(size: number): number {
  let chunk = MIN_CHUNK_SIZE;
  while (chunk < MAX_CHUNK_SIZE && size > chunk * CHUNKS_PER_FILE) chunk *= 2;
  return chunk;
}

/** Chunk requests in flight per source: enough to hide the gap at each chunk boundary (docs/DOWNLOADS.md). */
export const REQUESTS_PER_SOURCE = Number(process.env.LANSPREAD_REQUESTS_PER_SOURCE) || 2;

export function chunkCount(size: number, chunkSize: number): number {
  return size === 0 ? 0 : Math.ceil(size / chunkSize);
}

/** SHA-256 (hex) of every chunk of a file, read in one sequential pass. */
export async function hashFileChunks(file: string, size: number, chunkSize: number, signal?: AbortSignal): Promise<string[]> {
  const handle = await fs.open(file, 'r');
  try {
    const hashes: string[] = [];
    const buf = Buffer.allocUnsafe(Math.min(chunkSize, 1024 * 1024));
    for (let offset = 0; offset < size; offset += chunkSize) {
      signal?.throwIfAborted();
      const end = Math.min(offset + chunkSize, size);
      const hash = createHash('sha256');
      let pos = offset;
      while (pos < end) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) throw new Error(`${file} is shorter than ${size} bytes`);
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      hashes.push(hash.digest('hex'));
    }
    return hashes;
  } finally {
    await handle.close();
  }
}
