// Writes a RAR 5 archive of stored (uncompressed) entries of any size without
// holding it in memory, as many large games ship: the signature, a main
// header, per file a file header (method 0, the content's CRC32) followed by
// the content, then the end header. Every header is a vint-sized block with
// the CRC32 of itself. The content is pseudo-random and deterministic, made
// from one block per file, so the same call always writes the same archive.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export interface StoredEntry {
  name: string;
  size: number;
}

const SIGNATURE = Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00]);
const BLOCK = 1024 * 1024;

/** Write the archive to `file`; returns its size in bytes and each entry's CRC32. */
export function writeStoredRar5(file: string, entries: StoredEntry[]): { bytes: number; crc32: Map<string, number> } {
  const fd = openSync(file, 'w');
  let bytes = 0;
  const put = (buf: Buffer): void => {
    for (let done = 0; done < buf.length;) done += writeSync(fd, buf, done, buf.length - done);
    bytes += buf.length;
  };
  const crcs = new Map<string, number>();
  try {
    put(SIGNATURE);
    put(headerBlock([vint(1), vint(0), vint(0)])); // main header: no flags, not a volume
    for (const [i, entry] of entries.entries()) {
      const block = contentBlock(i);
      let crc = 0;
      forEachPiece(entry.size, block, (piece) => (crc = crc32(piece, crc)));
      crcs.set(entry.name, crc >>> 0);
      const name = Buffer.from(entry.name, 'utf8');
      put(
        headerBlock([
          vint(2), // file header
          vint(0x0002), // a data area follows
          vint(entry.size), // data size: stored, so the content itself
          vint(0x0004), // file flags: CRC32 present
          vint(entry.size), // unpacked size
          vint(0x20), // Windows attributes: archive
          u32(crc),
          vint(0), // compression: version 0, method 0 (store), smallest dictionary
          vint(0), // host: Windows
          vint(name.length),
          name,
        ]),
      );
      forEachPiece(entry.size, block, put);
    }
    put(headerBlock([vint(5), vint(0), vint(0)])); // end of archive, last volume
  } finally {
    closeSync(fd);
  }
  return { bytes, crc32: crcs };
}

/** One block of random bytes per file: the content is that block repeated, cut to size. */
function contentBlock(index: number): Buffer {
  const block = randomBytes(BLOCK);
  block.writeUInt32LE(index, 0);
  return block;
}

function forEachPiece(size: number, block: Buffer, fn: (piece: Buffer) => void): void {
  for (let done = 0; done < size; done += BLOCK) fn(block.subarray(0, Math.min(BLOCK, size - done)));
}

function headerBlock(fields: Buffer[]): Buffer {
  const body = Buffer.concat(fields);
  const sized = Buffer.concat([vint(body.length), body]);
  return Buffer.concat([u32(crc32(sized)), sized]);
}

/** RAR5 variable-length integer (7 bits per byte, high bit: more follows). */
export function vint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0);
  return Buffer.from(bytes);
}

/** 32-bit little-endian. */
export function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}
