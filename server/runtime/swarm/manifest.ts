// A manifest is a validated file list with every chunk's hash (SPEC section
// 5a); its id is a hash of a canonical form of it, so two nodes that agree on
// every path, size, chunk size and chunk hash have the same id, and any
// difference (another version, another file list) gives another id. The
// layout numbers the manifest's chunks across files (file order, then offset):
// have-sets index chunks by that number.
import { createHash } from 'node:crypto';
import { chunkCount } from '../content/chunks.js';

export interface ManifestFile {
  path: string;
  size: number;
  chunkSize: number;
  sha256: readonly string[];
}

export interface ManifestSource {
  dirs: readonly string[];
  files: readonly ManifestFile[];
}

/** The manifest id: 32 hex digits of SHA-256 over the canonical file list. */
export function manifestId(m: ManifestSource): string {
  const hash = createHash('sha256');
  hash.update('lanspread-manifest-1\n');
  for (const d of [...m.dirs].sort()) hash.update(`d ${JSON.stringify(d)}\n`);
  for (const f of [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`f ${JSON.stringify(f.path)} ${f.size} ${f.chunkSize} ${f.sha256.join(',')}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

export interface ChunkPlace {
  fileIndex: number;
  path: string;
  offset: number;
  length: number;
  sha256: string;
}

/** Where each chunk of a manifest lies. */
export class ManifestLayout {
  /** global index of each file's first chunk */
  private readonly base: number[] = [];
  private readonly byPath = new Map<string, number>();
  readonly chunks: number;
  readonly bytes: number;

  constructor(readonly files: readonly ManifestFile[]) {
    let n = 0;
    let bytes = 0;
    files.forEach((f, i) => {
      this.base.push(n);
      this.byPath.set(f.path, i);
      n += chunkCount(f.size, f.chunkSize);
      bytes += f.size;
    });
    this.chunks = n;
    this.bytes = bytes;
  }

  /** The global index of the chunk of file `fileIndex` at `offset`. */
  indexOf(fileIndex: number, offset: number): number {
    return this.base[fileIndex]! + Math.floor(offset / this.files[fileIndex]!.chunkSize);
  }

  /** The global index of exactly the chunk `path`+`offset`+`length`, or null when the range is not one chunk. */
  find(path: string, offset: number, length: number): number | null {
    const fileIndex = this.byPath.get(path);
    if (fileIndex === undefined) return null;
    const f = this.files[fileIndex]!;
    if (offset % f.chunkSize !== 0 || offset >= f.size) return null;
    if (length !== Math.min(f.chunkSize, f.size - offset)) return null;
    return this.indexOf(fileIndex, offset);
  }

  /** Bytes of the chunks set in `have`. */
  bytesOf(have: { has(i: number): boolean }): number {
    let total = 0;
    this.files.forEach((f, fileIndex) => {
      const n = chunkCount(f.size, f.chunkSize);
      for (let c = 0; c < n; c++) {
        if (have.has(this.base[fileIndex]! + c)) total += Math.min(f.chunkSize, f.size - c * f.chunkSize);
      }
    });
    return total;
  }
}
